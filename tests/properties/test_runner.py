"""The shared property runner: seeded, shrunk, reported with a token that replays exactly the
shrunk case, and a replay that names another property leaves this one alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import strategies as st

from alys_test_framework.properties import (
    BadReplayToken,
    CaseCrashed,
    ReplayToken,
    replay_command,
    replaying,
    report_property,
    run_async_property,
    run_property,
    slug,
)

PAIRS = st.tuples(st.integers(0, 1000), st.sampled_from("abc"))


def no_big_c(case: tuple[int, str]) -> None:
    assert not (case[0] >= 3 and case[1] == "c"), f"bad pair {case}"


def test_failure_is_shrunk_seeded_and_tokenized() -> None:
    first = run_property(PAIRS, no_big_c, examples=200, run_seed=7, name="pairs")
    assert first.counterexample == "(3, 'c')" and first.violation == "bad pair (3, 'c')"
    assert first == run_property(PAIRS, no_big_c, examples=200, run_seed=7, name="pairs")
    token = ReplayToken.parse(first.token or "")
    assert token.prop == "pairs" and str(token) == first.token
    assert first.metrics()["replay_token"] == first.token


def test_a_token_replays_exactly_its_case() -> None:
    first = run_property(PAIRS, no_big_c, examples=200, run_seed=7, name="pairs")
    with replaying(first.token):
        again = run_property(PAIRS, no_big_c, examples=200, run_seed=99, name="pairs")
        other = run_property(PAIRS, no_big_c, examples=200, run_seed=99, name="other")
    assert again.replayed and again.examples == 1 and again.counterexample == "(3, 'c')"
    assert again.violation == first.violation
    assert other.skipped_by_replay and other.examples == 0


def test_a_replayed_case_that_passes_now_is_reported_as_passing() -> None:
    first = run_property(PAIRS, no_big_c, examples=200, run_seed=7, name="pairs")
    with replaying(first.token):
        fixed = run_property(PAIRS, lambda c: None, examples=200, run_seed=7, name="pairs")
    assert fixed.violation is None and fixed.replayed and fixed.counterexample == "(3, 'c')"


def test_a_crash_of_the_target_is_a_violation() -> None:
    def crash(n: int) -> None:
        if n > 5:
            raise KeyError("boom")

    run = run_property(st.integers(0, 100), crash, examples=100, run_seed=1)
    assert run.violation and "crashed with KeyError" in run.violation
    assert run.counterexample == "6"
    assert issubclass(CaseCrashed, AssertionError)


def test_bad_tokens_are_refused_with_what_was_expected() -> None:
    for bad in ("", "a:b", "Upper:6.1:AAAA", "x:6.1:!!!!"):
        with pytest.raises(BadReplayToken, match="replay token"):
            with replaying(bad):
                pass


def test_async_checks_run_on_the_callers_loop() -> None:
    async def main() -> Any:
        loop = asyncio.get_running_loop()
        seen: set[Any] = set()

        async def check(n: int) -> None:
            seen.add(asyncio.get_running_loop())
            assert n < 10, f"n={n}"

        run = await run_async_property(st.integers(0, 50), check, examples=50, run_seed=3, name="n")
        return run, seen == {loop}

    run, same_loop = asyncio.run(main())
    assert same_loop and run.counterexample == "10" and run.token


class Out:
    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {}
        self.violations: list[str] = []

    def record(self, **m: Any) -> None:
        self.metrics.update(m)

    def expect(self, ok: bool, prop: str, detail: str = "") -> bool:
        if not ok:
            self.violations.append(f"{prop}: {detail}")
        return ok


def test_report_puts_case_blob_and_command_in_metrics_and_message() -> None:
    run = run_property(PAIRS, no_big_c, examples=200, run_seed=7, name=slug("No big C"))
    out = Out()
    assert not report_property(out, run, "No big C", phase="actor-core", test="test_x", seed=7)
    cmd = f"alys-test run --phase actor-core --only test_x --seed 7 --reproduce {run.token}"
    assert (
        out.metrics["replay_command"]
        == cmd
        == replay_command("actor-core", "test_x", run.token or "", 7)
    )
    assert out.metrics["counterexample"] == "(3, 'c')"
    assert out.metrics["reproduce_failure"].startswith("@reproduce_failure(")
    (msg,) = out.violations
    assert msg.startswith("No big C: bad pair (3, 'c') (shrunk counterexample: (3, 'c'))")
    assert msg.endswith(f"replay: {cmd}")
    # a second failing property of the same test does not overwrite the first one's case
    other = run_property(st.integers(0, 9), lambda n: None if n < 2 else no_big_c((9, "c")),
                         examples=50, run_seed=1, name="second")  # fmt: skip
    report_property(out, other, "second", phase="actor-core", test="test_x", seed=7)
    assert out.metrics["counterexample"] == "(3, 'c')" and len(out.violations) == 2
