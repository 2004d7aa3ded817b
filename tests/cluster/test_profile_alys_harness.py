"""The network harness under the ``alys`` profile judges what it measures black-box: a node
that only drops a corrupting peer (its ban expires at once) FAILS the corruption test by the
ban property, and what cannot be measured is UNSUPPORTED with the reason, never passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.network import NetworkTestHarness
from alys_test_framework.results import TestStatus
from alys_test_framework.testing import run_harness

NODE = ["{python}", "-m", "alys_node"]
FORGIVING = ["{python}", str(Path(__file__).with_name("forgiving_node.py"))]


def _config() -> TestConfig:
    cfg = TestConfig.development()
    net = cfg.network.model_copy(
        update={"node_count": 3, "convergence_timeout_s": 30, "node_profile": "alys"}
    )
    return cfg.model_copy(update={"network": net})


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_node_that_does_not_ban_fails_the_corruption_test_under_alys(tmp_path: Path) -> None:
    [r] = run_harness(
        NetworkTestHarness, _config(), tmp_path, target=FORGIVING, only=["test_corrupted_messages"]
    )
    assert r.status is TestStatus.FAILED, (r.status, r.message)
    assert "corrupting sender banned" in r.message and "re-admitted" in r.message, r.message


def test_unmeasurable_network_tests_are_unsupported_under_alys(tmp_path: Path) -> None:
    only = ["test_max_peers_enforced", "test_fork_resolution_after_heal", "test_block_propagation"]
    results = run_harness(NetworkTestHarness, _config(), tmp_path, target=None, only=only)
    by = {r.name: r for r in results}
    assert {r.status for r in results} == {TestStatus.UNSUPPORTED}, [
        (r.name, r.status) for r in results
    ]
    assert "no max-peers flag" in by["test_max_peers_enforced"].message
    assert "how many blocks" in by["test_fork_resolution_after_heal"].message
    assert "received_at" in by["test_block_propagation"].message
