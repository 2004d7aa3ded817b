"""The governance harness passes on the real node code and fails, naming the property, on
every deliberately broken target."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.governance import GovernanceIntegrationHarness
from alys_test_framework.results import TestStatus

_spec = importlib.util.spec_from_file_location(
    "gov_broken_targets", Path(__file__).with_name("broken_targets.py")
)
broken = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(broken)  # type: ignore[union-attr]


def _run(target=None, only=None, tmp_path=None):  # noqa: ANN001, ANN202
    async def go():
        ctx = HarnessContext(TestConfig.development(), workdir=tmp_path or Path("."))
        h = GovernanceIntegrationHarness(ctx, target)
        assert await h.health_check()
        await h.initialize()
        try:
            return await h.run_tests(only=only), ctx
        finally:
            await h.shutdown()

    return asyncio.run(go())


def test_real_target_passes_every_category(tmp_path) -> None:
    results, ctx = _run(tmp_path=tmp_path)
    bad = [(r.name, r.status.value, r.message) for r in results if not r.passed]
    assert not bad
    assert {r.category for r in results} == set(GovernanceIntegrationHarness.categories)
    agg = next(r for r in results if r.name == "test_aggregation_scaling")
    assert any(k.startswith("aggregate_") for k in agg.metrics)
    assert (
        any(e.type == "byzantine_evidence" for e in ctx.events.events)
        if hasattr(ctx.events, "events")
        else True
    )


@pytest.mark.parametrize("name", sorted(broken.BROKEN))
def test_broken_target_is_reported_failed(name: str, tmp_path) -> None:
    factory, expectations = broken.BROKEN[name]
    results, _ = _run(factory(), only=list(expectations), tmp_path=tmp_path)
    by_name = {r.name: r for r in results}
    assert set(by_name) == set(expectations)
    for test, prop in expectations.items():
        r = by_name[test]
        assert r.status is TestStatus.FAILED, f"{name}/{test}: {r.status.value} {r.message}"
        assert prop in r.message, f"{name}/{test}: {r.message}"
