"""Properties over generated cases, run by Hypothesis outside pytest, and reported the way a user
can act on: the shrunk counterexample, Hypothesis's reproduction blob and one command that
replays exactly that case.

Why a runner of our own: a harness test is one measured verdict, not a pytest test. Hypothesis's
``@given`` is applied to a closure; no example database is used (a run must not depend on what an
earlier run found), deadlines and health checks are off (signature checks and actor systems are
slow by nature and their timing is not the property), and only the first bug is reported, shrunk.

Rules of this module:
1. A run is derandomized by the run seed: same seed, same strategy, same cases, same verdict.
2. A check fails by raising ``AssertionError``; any other exception raised by the target is a
   violation too (``CaseCrashed``), never an error of the harness.
3. A failure carries a *replay token* ``<property>:<hypothesis version>:<blob>`` (base64url, no
   quoting needed on a shell line). ``replaying(token)`` makes every ``run_property`` named
   ``<property>`` run exactly that case instead of generating; properties of other names in the
   same test are not run at all while a replay is active (they report ``skipped_by_replay``).
4. A replayed case that no longer fails is reported as passing, with the case it ran.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import contextvars
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from hypothesis import HealthCheck, given, reproduce_failure, seed, settings
from hypothesis.errors import DidNotReproduce
from hypothesis.strategies import SearchStrategy

BLOB_MARK = "@reproduce_failure("
_DECORATOR = re.compile(r"@reproduce_failure\('([^']+)', (b'[^']*'|b\"[^\"]*\")\)")
_NAME = re.compile(r"^[a-z0-9_\-]+$")

#: the replay token of the run in progress (``alys-test run --reproduce``), or None
REPLAY: contextvars.ContextVar[str | None] = contextvars.ContextVar("alys_replay", default=None)


class BadReplayToken(ValueError):
    """A ``--reproduce`` value that is not a token this module wrote."""


@dataclass(frozen=True)
class ReplayToken:
    prop: str
    version: str
    blob: bytes

    def __str__(self) -> str:
        b64 = base64.urlsafe_b64encode(self.blob).decode().rstrip("=")
        return f"{self.prop}:{self.version}:{b64}"

    @classmethod
    def parse(cls, text: str) -> ReplayToken:
        parts = text.strip().split(":")
        if len(parts) != 3 or not _NAME.match(parts[0]) or not parts[1]:
            raise BadReplayToken(
                f"{text!r} is not a replay token (expected PROPERTY:VERSION:BLOB, as written in "
                "the failing test's metrics.replay_token)"
            )
        prop, version, b64 = parts
        try:
            blob = base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_", validate=True)
        except (ValueError, TypeError) as exc:
            raise BadReplayToken(f"replay token blob is not base64url: {exc}") from None
        return cls(prop, version, blob)

    @classmethod
    def from_decorator(cls, prop: str, decorator: str) -> ReplayToken | None:
        m = _DECORATOR.search(decorator)
        if m is None:
            return None
        return cls(prop, m.group(1), ast.literal_eval(m.group(2)))


def slug(text: str) -> str:
    """A property name as a token part: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "property"


@contextlib.contextmanager
def replaying(token: str | None) -> Iterator[None]:
    """Within the block, properties named by ``token`` replay its case (None: no replay)."""
    if token is not None:
        ReplayToken.parse(token)  # refuse a bad token before anything runs
    reset = REPLAY.set(token)
    try:
        yield
    finally:
        REPLAY.reset(reset)


@dataclass(frozen=True)
class PropertyRun:
    examples: int  # cases the check ran on, shrinking included
    violation: str | None = None  # the shrunk case's assertion message
    counterexample: str | None = None  # repr of the shrunk case
    reproduce: str | None = None  # "@reproduce_failure('<version>', b'<blob>')"
    token: str | None = None  # "<property>:<version>:<blob>" for --reproduce
    replayed: bool = False  # this run replayed a token instead of generating
    skipped_by_replay: bool = False  # a replay of another property is active

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"examples": self.examples}
        if self.replayed:
            out["replayed"] = True
            out["replayed_case"] = self.counterexample
        if self.violation is not None:
            out["counterexample"] = self.counterexample
            if self.reproduce is not None:
                out["reproduce_failure"] = self.reproduce
            if self.token is not None:
                out["replay_token"] = self.token
        return out


class CaseCrashed(AssertionError):
    """The target raised something other than a refusal: a property violation, not an error."""


def _active_replay(name: str | None) -> tuple[tuple[str, bytes] | None, bool]:
    """(the (version, blob) to replay for this property, whether to skip it)."""
    text = REPLAY.get()
    if text is None:
        return None, False
    token = ReplayToken.parse(text)
    if name is not None and token.prop != name:
        return None, True
    return (token.version, token.blob), False


def run_property(
    strategy: SearchStrategy[Any],
    check: Callable[[Any], None],
    *,
    examples: int,
    run_seed: int,
    replay: tuple[str, bytes] | None = None,
    name: str | None = None,
) -> PropertyRun:
    """Run ``check`` (which asserts) on ``examples`` generated cases; shrink the first failure.

    ``replay`` = (Hypothesis version, blob) from a report's ``reproduce_failure`` runs exactly
    that case instead; without it an active ``replaying`` token for ``name`` does the same.
    """
    if replay is None:
        replay, skip = _active_replay(name)
        if skip:
            return PropertyRun(0, skipped_by_replay=True)
    calls = 0
    last: list[Any] = []

    def replaying_fn(fn: Callable[..., None]) -> Callable[..., None]:
        return reproduce_failure(*replay)(fn) if replay is not None else fn

    @replaying_fn
    @seed(run_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        report_multiple_bugs=False,
    )
    @given(strategy)
    def prop(case: Any) -> None:
        nonlocal calls
        calls += 1
        last[:] = [case]  # Hypothesis replays the shrunk case last
        try:
            check(case)
        except AssertionError:
            raise
        except Exception as exc:
            raise CaseCrashed(f"crashed with {type(exc).__name__}: {exc}") from exc

    try:
        prop()
    except DidNotReproduce:  # the replayed case passes now
        return PropertyRun(calls, counterexample=_repr(last), replayed=True)
    except AssertionError as exc:
        notes = getattr(exc, "__notes__", [])
        blob = next((n.strip() for n in notes if BLOB_MARK in n), None)
        if blob is not None:
            blob = blob[blob.index(BLOB_MARK) :].split(" as a decorator")[0]
        elif replay is not None:
            blob = f"@reproduce_failure({replay[0]!r}, {replay[1]!r})"
        token = ReplayToken.from_decorator(slug(name or "property"), blob) if blob else None
        return PropertyRun(
            calls,
            str(exc).splitlines()[0][:400] if str(exc) else type(exc).__name__,
            _repr(last),
            blob,
            str(token) if token is not None else None,
            replayed=replay is not None,
        )
    return PropertyRun(calls, counterexample=_repr(last) if replay else None, replayed=bool(replay))


def _repr(last: list[Any]) -> str | None:
    return repr(last[0])[:1000] if last else None


async def run_async_property(
    strategy: SearchStrategy[Any],
    check: Callable[[Any], Awaitable[None]],
    *,
    examples: int,
    run_seed: int,
    name: str | None = None,
) -> PropertyRun:
    """``run_property`` for a check that is a coroutine on the caller's event loop.

    Hypothesis drives the cases from a worker thread; each case runs on this loop, so the
    target (an actor system, a cluster client) lives where the harness created it. When the
    caller is cancelled (a test timeout) the remaining cases return at once, so the worker
    thread never outlives the test by more than one case.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def sync_check(case: Any) -> None:
        if stop.is_set():
            return
        asyncio.run_coroutine_threadsafe(_as_coroutine(check, case), loop).result()

    ctx = contextvars.copy_context()
    try:
        return await asyncio.to_thread(
            ctx.run,
            run_property,
            strategy,
            sync_check,
            examples=examples,
            run_seed=run_seed,
            name=name,
        )
    finally:
        stop.set()


async def _as_coroutine(check: Callable[[Any], Awaitable[None]], case: Any) -> None:
    await check(case)


# -- reporting a run in a harness test ----------------------------------------------------------
class _Outcome(Protocol):
    def record(self, **metrics: Any) -> None: ...
    def expect(self, condition: bool, prop: str, detail: str = "") -> bool: ...


def replay_command(phase: str, test: str, token: str, seed: int, preset: str | None = None) -> str:
    """The one line that replays exactly the failing case of ``test``."""
    parts = ["alys-test run", f"--phase {phase}", f"--only {test}", f"--seed {seed}"]
    if preset:
        parts.append(f"--preset {preset}")
    parts.append(f"--reproduce {token}")
    return " ".join(parts)


def report_property(
    out: _Outcome,
    run: PropertyRun,
    prop: str,
    *,
    phase: str,
    test: str,
    seed: int,
    preset: str | None = None,
) -> bool:
    """Record a run in a test's metrics and state ``prop`` on it; True iff it held.

    A violation's message carries the shrunk counterexample and the replay command, so the
    one-line summary of a failed run already says how to reproduce it.
    """
    key = slug(prop)
    if run.skipped_by_replay:
        out.record(**{f"{key}.skipped_by_replay": True})
        return True
    metrics = run.metrics()
    command = None
    if run.violation is not None and run.token is not None:
        command = replay_command(phase, test, run.token, seed, preset)
        metrics["replay_command"] = command
    out.record(**{f"{key}.examples": run.examples})
    first_failure = "counterexample" not in getattr(out, "metrics", {})
    if run.violation is None or first_failure:  # the first failing property's case is reported
        out.record(**metrics)
    if run.violation is None:
        return out.expect(True, prop)
    detail = f"{run.violation} (shrunk counterexample: {run.counterexample})"
    if command is not None:
        detail += f"; replay: {command}"
    return out.expect(False, prop, detail)


__all__ = [
    "BLOB_MARK",
    "REPLAY",
    "BadReplayToken",
    "CaseCrashed",
    "PropertyRun",
    "ReplayToken",
    "replay_command",
    "replaying",
    "report_property",
    "run_async_property",
    "run_property",
    "slug",
]
