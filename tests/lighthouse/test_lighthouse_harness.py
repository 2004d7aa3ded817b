"""The harness passes on the real target and reports FAILED, naming the property, on each broken one."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.lighthouse import LighthouseCompatHarness
from alys_test_framework.harness.registry import HarnessRegistry
from alys_test_framework.phases import MigrationPhase
from alys_test_framework.results import TestStatus

from . import broken_targets as broken


def _ctx(tmp_path: Path, **lighthouse: object) -> HarnessContext:
    cfg = TestConfig.development()
    if lighthouse:
        cfg = cfg.model_copy(update={"lighthouse": cfg.lighthouse.model_copy(update=lighthouse)})
    return HarnessContext(cfg, workdir=tmp_path)


def test_lighthouse_registered_for_phase() -> None:
    factories = HarnessRegistry().factories(MigrationPhase.LIGHTHOUSE_MIGRATION)
    assert LighthouseCompatHarness in factories


def test_lighthouse_harness_passes_on_real_target(tmp_path: Path) -> None:
    async def run():
        h = LighthouseCompatHarness(_ctx(tmp_path))
        assert await h.health_check()
        await h.initialize()
        try:
            return await h.run_all_tests()
        finally:
            await h.shutdown()

    results = asyncio.run(run())
    bad = [(r.name, r.status, r.message) for r in results if r.status is not TestStatus.PASSED]
    assert not bad, bad
    assert {r.category for r in results} == set(LighthouseCompatHarness.categories)
    production = next(r for r in results if r.name == "test_block_production")
    assert production.metrics["blocks"] == 30
    assert production.metrics["first_block_of_fork"] == {"bellatrix": 1, "capella": 10, "deneb": 20}


def test_lighthouse_fork_points_follow_config(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, blocks=12, capella_block=3, deneb_block=7)
    h = LighthouseCompatHarness(ctx)
    [res] = asyncio.run(h.run_tests(only=["test_block_production"]))
    assert res.status is TestStatus.PASSED, res.message
    assert res.metrics["first_block_of_fork"] == {"bellatrix": 1, "capella": 3, "deneb": 7}


@pytest.mark.parametrize("case", sorted(broken.BROKEN))
def test_lighthouse_harness_fails_on_broken_target(case: str, tmp_path: Path) -> None:
    factory, test_name, prop = broken.BROKEN[case]
    h = LighthouseCompatHarness(_ctx(tmp_path), target=factory())
    [res] = asyncio.run(h.run_tests(only=[test_name]))
    assert res.status is TestStatus.FAILED, (res.status, res.message)
    assert prop in res.message, res.message
    # the failure cites the spec section it violates, and lists it in the result's metrics
    assert re.match(r"^[\w./-]+#[\w-]+: ", res.message), res.message
    assert any(prop in v for v in res.metrics["violated"]), res.metrics


def test_lighthouse_missing_vectors_is_not_a_pass(tmp_path: Path) -> None:
    h = LighthouseCompatHarness(_ctx(tmp_path), vectors_dir=tmp_path / "nothing")
    results = asyncio.run(h.run_tests(only=["test_ssz_static_vectors", "test_recorded_exchanges"]))
    assert all(r.status is TestStatus.FAILED for r in results), [r.message for r in results]
