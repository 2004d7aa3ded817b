"""A property over generated cases, run by Hypothesis outside pytest, derandomized by the run
seed, and reported the way a user can act on: the shrunk counterexample and Hypothesis's
reproduction blob go into the test's metrics.

Why a runner of our own: a harness test is one measured verdict, not a pytest test. Hypothesis's
``@given`` is applied to a closure; no example database is used (a run must not depend on what an
earlier run found), deadlines and health checks are off (signature checks are slow by nature and
their timing is not the property), and only the first bug is reported, shrunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, reproduce_failure, seed, settings
from hypothesis.strategies import SearchStrategy

BLOB_MARK = "@reproduce_failure("


@dataclass(frozen=True)
class PropertyRun:
    examples: int  # cases the check ran on, shrinking included
    violation: str | None = None  # the shrunk case's assertion message
    counterexample: str | None = None  # repr of the shrunk case
    reproduce: str | None = None  # "@reproduce_failure('<version>', b'<blob>')"

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"examples": self.examples}
        if self.violation is not None:
            out["counterexample"] = self.counterexample
            if self.reproduce is not None:
                out["reproduce_failure"] = self.reproduce
        return out


class CaseCrashed(AssertionError):
    """The target raised something other than a refusal: a property violation, not an error."""


def run_property(
    strategy: SearchStrategy[Any],
    check: Callable[[Any], None],
    *,
    examples: int,
    run_seed: int,
    replay: tuple[str, bytes] | None = None,
) -> PropertyRun:
    """Run ``check`` (which asserts) on ``examples`` generated cases; shrink the first failure.

    ``replay`` = (Hypothesis version, blob) from a report's ``reproduce_failure`` runs exactly
    that case instead.
    """
    calls = 0
    last: list[Any] = []

    def replaying(fn: Callable[..., None]) -> Callable[..., None]:
        return reproduce_failure(*replay)(fn) if replay is not None else fn

    @replaying
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
        try:
            check(case)
        except AssertionError:
            last[:] = [case]  # Hypothesis replays the shrunk case last
            raise
        except Exception as exc:
            last[:] = [case]
            raise CaseCrashed(f"crashed with {type(exc).__name__}: {exc}") from exc

    try:
        prop()
    except AssertionError as exc:
        notes = getattr(exc, "__notes__", [])
        blob = next((n.strip() for n in notes if BLOB_MARK in n), None)
        if blob is not None:
            blob = blob[blob.index(BLOB_MARK) :].split(" as a decorator")[0]
        return PropertyRun(
            calls,
            str(exc).splitlines()[0][:400],
            repr(last[0])[:1000] if last else None,
            blob,
        )
    return PropertyRun(calls)
