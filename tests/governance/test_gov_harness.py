"""The governance harness passes on the real node code and fails, naming the property, on
every deliberately broken target; a failing property reports its shrunk counterexample."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.governance import GovernanceIntegrationHarness
from alys_test_framework.harness.governance.kit import run_property
from alys_test_framework.results import TestResult, TestStatus

from .broken_targets import BROKEN


def _run(
    target: Any = None, only: list[str] | None = None, tmp_path: Path | None = None
) -> tuple[list[TestResult], HarnessContext]:
    async def go() -> tuple[list[TestResult], HarnessContext]:
        ctx = HarnessContext(TestConfig.development(), workdir=tmp_path or Path("."))
        h = GovernanceIntegrationHarness(ctx, target)
        assert await h.health_check()
        await h.initialize()
        try:
            return await h.run_tests(only=only), ctx
        finally:
            await h.shutdown()

    return asyncio.run(go())


def test_real_target_passes_every_category(tmp_path: Path) -> None:
    results, ctx = _run(tmp_path=tmp_path)
    bad = [(r.name, r.status.value, r.message) for r in results if not r.passed]
    assert not bad
    assert [r.category for r in results] == sorted(
        (r.category for r in results), key=GovernanceIntegrationHarness.categories.index
    )
    assert {r.category for r in results} == set(GovernanceIntegrationHarness.categories)
    agg = next(r for r in results if r.name == "test_aggregation_scaling")
    assert any(k.startswith("aggregate_") for k in agg.metrics)
    byz = [r for r in results if r.category == "byzantine_properties"]
    cases = TestConfig.development().governance.byzantine_examples
    assert byz and all(r.metrics["examples"] == cases for r in byz)
    assert all("counterexample" not in r.metrics for r in byz)
    events = getattr(ctx.events, "events", None)
    if events is not None:
        assert any(e.type == "byzantine_evidence" for e in events)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_target_is_reported_failed(name: str, tmp_path: Path) -> None:
    factory, expectations = BROKEN[name]
    results, _ = _run(factory(), only=list(expectations), tmp_path=tmp_path)
    by_name = {r.name: r for r in results}
    assert set(by_name) == set(expectations)
    for test, prop in expectations.items():
        r = by_name[test]
        assert r.status is TestStatus.FAILED, f"{name}/{test}: {r.status.value} {r.message}"
        assert prop in r.message, f"{name}/{test}: {r.message}"
        if test.startswith("test_property_"):  # a property names the case it shrank to
            assert r.metrics.get("counterexample"), f"{name}/{test}: {r.metrics}"
            assert "shrunk counterexample" in r.message
            assert str(r.metrics.get("reproduce_failure", "")).startswith("@reproduce_failure(")
            assert r.metrics["replay_command"].startswith("alys-test run --phase governance")


def _no_big_pair(case: tuple[int, str]) -> None:
    assert not (case[0] >= 3 and case[1] == "c"), f"bad pair {case}"


def test_property_runner_shrinks_is_seeded_and_replays() -> None:
    strategy = st.tuples(st.integers(0, 1000), st.sampled_from("abc"))
    first = run_property(strategy, _no_big_pair, examples=200, run_seed=7)
    again = run_property(strategy, _no_big_pair, examples=200, run_seed=7)
    assert first.counterexample == "(3, 'c')"  # shrunk to the boundary
    assert first == again  # derandomized by the run seed
    assert first.violation == "bad pair (3, 'c')"
    assert first.reproduce is not None
    version, blob = first.reproduce.removeprefix("@reproduce_failure(").rstrip(")").split(", ")
    replayed = run_property(
        strategy,
        _no_big_pair,
        examples=200,
        run_seed=0,
        replay=(version.strip("'"), ast.literal_eval(blob)),
    )
    assert replayed.counterexample == "(3, 'c')"
    assert run_property(strategy, lambda c: None, examples=20, run_seed=7).metrics() == {
        "examples": 20
    }


def test_property_runner_reports_a_crash_as_a_violation() -> None:
    def crash(case: int) -> None:
        if case > 5:
            raise KeyError(case)

    run = run_property(st.integers(0, 100), crash, examples=50, run_seed=1)
    assert run.counterexample == "6" and run.violation is not None
    assert run.violation.startswith("crashed with KeyError")


def test_failing_byzantine_property_replays_from_its_token(tmp_path: Path) -> None:
    """The token in a failing test's metrics reruns exactly the shrunk case, nothing else."""
    from alys_test_framework.properties import replaying

    factory, _ = BROKEN["unbound_epoch"]
    test = "test_property_approval_replay"
    first = _run(factory(), only=[test], tmp_path=tmp_path)[0][0]
    assert first.status is TestStatus.FAILED
    token = first.metrics["replay_token"]
    assert (
        f"--only {test}" in first.metrics["replay_command"]
        and token in first.metrics["replay_command"]
    )
    with replaying(token):
        again = _run(factory(), only=[test], tmp_path=tmp_path)[0][0]
    assert again.status is TestStatus.FAILED
    assert again.metrics["replayed"] is True and again.metrics["examples"] <= 2
    assert again.metrics["counterexample"] == first.metrics["counterexample"]
