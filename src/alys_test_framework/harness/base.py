"""The TestHarness protocol and a base class that turns measured checks into TestResults.

A harness test method is ``async def test_x(self, out: Outcome) -> None`` decorated with
``@harness_test("category")``. It measures the target, records numbers with ``out.record`` and
states properties with ``out.expect`` (or ``out.fail`` when the measurement itself is the
violation). The base class times it, applies the timeout, catches exceptions and refuses a
method that checked nothing: a verdict must come from a measurement.

Rules:
- every test method's category is one of its class's ``categories``; a class that declares
  tests outside them is rejected when it is defined (as Bitcoin Core's test metaclass does), so
  the validators' required categories and the tests that exist cannot drift apart;
- tests run in the order of the ``categories`` tuple, then in definition order: report order
  never depends on how mixin classes happen to be combined (the MRO);
- ``out.unsupported(reason)`` ends a test as UNSUPPORTED: the target cannot express what the
  test needs. That is never a pass, and it fails the phase.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn, Protocol, runtime_checkable

from ..config import TestConfig
from ..events import EventLog, EventSink
from ..results import TestResult, TestStatus
from ..waiting import Stalled, WaitTimeout, progress_reporter

PROGRESS_EVERY_S = 1.0
MAX_LISTED_VIOLATIONS = 50


@runtime_checkable
class TestHarness(Protocol):
    """What the framework needs from a harness; nothing more.

    (No ``__test__`` marker here: runtime protocol checks would demand it of every harness.)
    """

    name: str
    results: list[TestResult]

    @property
    def categories(self) -> tuple[str, ...]: ...

    async def health_check(self) -> bool: ...
    async def initialize(self) -> None: ...
    async def run_all_tests(self) -> list[TestResult]: ...
    async def shutdown(self) -> None: ...
    def get_metrics(self) -> dict[str, Any]: ...


@dataclass
class HarnessContext:
    """Everything a harness may use from the framework, handed over at construction."""

    config: TestConfig
    events: EventSink = field(default_factory=EventLog)
    workdir: Path = field(default_factory=lambda: Path("."))
    executor: Executor | None = None

    @property
    def seed(self) -> int:
        return self.config.seed

    def rng(self, salt: str = "") -> random.Random:
        """A generator derived from the run seed; the salt keeps harnesses independent."""
        return random.Random(f"{self.config.seed}:{salt}")


class PropertyViolation(AssertionError):
    """Raised by ``Outcome.require`` to end a test early with a named violated property."""


class SkipTest(Exception):
    pass


class UnsupportedTest(Exception):
    """Raised by ``Outcome.unsupported``: the target lacks a capability this test needs."""


class Outcome:
    """Collects the measurements and property checks of one test method."""

    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {}
        self.violations: list[str] = []
        self.checks = 0
        self.skipped: str | None = None

    def record(self, **metrics: Any) -> None:
        self.metrics.update(metrics)

    def expect(self, condition: bool, prop: str, detail: str = "") -> bool:
        """State a property; a false one fails the test with ``prop: detail`` as its message."""
        self.checks += 1
        if not condition:
            self.violations.append(f"{prop}: {detail}" if detail else prop)
        return bool(condition)

    def fail(self, prop: str, detail: str = "") -> None:
        """Record a violated property: the measurement itself showed it (no condition to test)."""
        self.expect(False, prop, detail)

    def require(self, condition: bool, prop: str, detail: str = "") -> None:
        """Like expect, but stops the test: later checks make no sense without this one."""
        if not self.expect(condition, prop, detail):
            raise PropertyViolation(prop)

    def skip(self, reason: str) -> NoReturn:
        self.skipped = reason
        raise SkipTest(reason)

    def unsupported(self, reason: str) -> NoReturn:
        """End the test as UNSUPPORTED, naming the capability the target lacks."""
        raise UnsupportedTest(reason)


TestMethod = Callable[[Any, Outcome], Awaitable[None]]


def harness_test(
    category: str, *, timeout_s: float | None = None
) -> Callable[[TestMethod], TestMethod]:
    """Mark a coroutine method as a harness test in ``category``."""

    def mark(fn: TestMethod) -> TestMethod:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"{fn.__name__} must be async")
        fn.__harness_test__ = (category, timeout_s)  # type: ignore[attr-defined]
        return fn

    return mark


class BaseHarness:
    """Runs the decorated test methods in definition order and reports each one."""

    name: ClassVar[str] = "harness"
    categories: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: HarnessContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.results: list[TestResult] = []
        self._metrics: dict[str, Any] = {}

    # -- protocol ----------------------------------------------------------------------
    async def health_check(self) -> bool:
        """Subclasses probe their target; the base only says whether tests are defined."""
        return bool(self.test_methods())

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def get_metrics(self) -> dict[str, Any]:
        return {
            "tests": len(self.results),
            "passed": sum(r.passed for r in self.results),
            **self._metrics,
        }

    async def run_all_tests(self) -> list[TestResult]:
        return await self.run_tests()

    # -- running ---------------------------------------------------------------------------
    @classmethod
    def test_methods(cls) -> list[tuple[str, str, float | None]]:
        """(name, category, timeout) of every test: ``categories`` order, then definition order."""
        seen: dict[str, tuple[str, str, float | None]] = {}
        for klass in reversed(cls.__mro__):
            for attr, fn in vars(klass).items():
                mark = getattr(fn, "__harness_test__", None)
                if mark is not None:
                    seen[attr] = (attr, mark[0], mark[1])
                elif attr in seen:  # overridden by a plain method: no longer a test
                    del seen[attr]
        rank = {c: i for i, c in enumerate(cls.categories)}
        return sorted(seen.values(), key=lambda t: rank.get(t[1], len(rank)))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # mixins (no categories, no name of their own) are checked in the class combining them
        if not cls.categories and "name" not in vars(cls):
            return
        declared = set(cls.categories)
        for name, category, _ in cls.test_methods():
            if category not in declared:
                raise TypeError(
                    f"{cls.__name__}.{name} is in category {category!r}, which "
                    f"{cls.__name__}.categories {cls.categories!r} does not declare"
                )

    async def run_tests(self, only: Iterable[str] | None = None) -> list[TestResult]:
        wanted = set(only) if only is not None else None
        results = []
        stop = ""  # --fail-fast: why the rest is not run
        for name, category, timeout in self.test_methods():
            if wanted is not None and name not in wanted:
                continue
            if stop:
                skipped = TestResult(name, self.name, category, TestStatus.SKIPPED, 0.0, stop)
                self.results.append(skipped)
                results.append(skipped)
                continue
            r = await self.run_one(name, category, timeout)
            results.append(r)
            if self.config.fail_fast and r.status is TestStatus.FAILED:
                stop = f"not run: --fail-fast after {r.name} failed"
        return results

    def _progress_hook(self, test: str) -> Callable[[str, object], None]:
        """What the running test waits for, as ``progress`` events at most once a second."""
        last = [0.0]

        def hook(what: str, value: object) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                self.ctx.events.emit("progress", self.name, test=test,
                                     waiting_for=f"{what}: now {value!r}")  # fmt: skip

        return hook

    async def run_one(self, name: str, category: str, timeout_s: float | None = None) -> TestResult:
        limit = timeout_s or self.config.performance.max_test_duration_s
        out = Outcome()
        self.ctx.events.emit("test_started", self.name, test=name, category=category)
        start = time.perf_counter()
        status, message = TestStatus.PASSED, ""
        try:
            with progress_reporter(self._progress_hook(name)):
                await asyncio.wait_for(getattr(self, name)(out), timeout=limit)
        except PropertyViolation:
            pass
        except SkipTest as exc:
            status, message = TestStatus.SKIPPED, str(exc)
        except UnsupportedTest as exc:
            status, message = TestStatus.UNSUPPORTED, str(exc)
        except Stalled as exc:  # progress stopped: a liveness violation, named, not a timeout
            status, message = TestStatus.FAILED, f"liveness: {exc}"
        except WaitTimeout as exc:  # a condition that never held: named with its last value
            status, message = TestStatus.ERROR, str(exc)
        except TimeoutError:
            status, message = TestStatus.ERROR, f"timed out after {limit:g} s"
        except Exception as exc:  # a broken target or harness: reported, never swallowed
            status = TestStatus.ERROR
            message = f"{type(exc).__name__}: {exc}"
            out.metrics.setdefault("traceback", traceback.format_exc(limit=6))
        duration = time.perf_counter() - start
        if out.violations:  # each violated property whole (the message joins them with "; ")
            out.metrics.setdefault("violations", list(out.violations[:MAX_LISTED_VIOLATIONS]))
        if status is TestStatus.PASSED:
            if out.violations:
                status, message = TestStatus.FAILED, "; ".join(out.violations)
            elif out.checks == 0:
                status, message = TestStatus.ERROR, "test checked no property"
        elif status is TestStatus.UNSUPPORTED and out.violations:  # what was measured failed
            status, message = TestStatus.FAILED, "; ".join(out.violations + [f"then: {message}"])
        elif status is TestStatus.ERROR and out.violations:
            message = "; ".join(out.violations + [message])
        result = TestResult(name, self.name, category, status, duration, message, out.metrics)
        self.results.append(result)
        self.ctx.events.emit(
            "test_finished",
            self.name,
            test=name,
            category=category,
            status=status.value,
            duration_s=duration,
            message=message,
        )
        return result
