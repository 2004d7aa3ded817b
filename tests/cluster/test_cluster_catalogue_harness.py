"""The sync harness's Byzantine catalogue test on real node processes: a node that accepts bad
signatures fails it naming B1 (the case and the rule), and leaves no process behind."""

from __future__ import annotations

from pathlib import Path

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.sync import SyncTestHarness
from alys_test_framework.results import TestStatus
from alys_test_framework.testing import run_harness

NODE = ["{python}", "-m", "alys_node"]


def test_catalogue_fails_a_node_accepting_bad_signatures_naming_b1(tmp_path: Path) -> None:
    cfg = TestConfig.development().model_copy(update={"fail_fast": True})
    sync = cfg.sync.model_copy(update={"max_chain_height": 200, "scenario_height": 200})
    cfg = cfg.model_copy(update={"sync": sync})
    [r] = run_harness(
        SyncTestHarness, cfg, tmp_path, target=[*NODE, "--seeded-bug", "accept-bad-signatures"],
        only=["test_byzantine_catalogue"],
    )  # fmt: skip
    assert r.status is TestStatus.FAILED, r.message
    assert "[B1] byzantine case B1-" in r.message, r.message
    assert "victim imported the bad block" in r.message
