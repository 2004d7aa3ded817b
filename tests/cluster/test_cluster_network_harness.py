"""NetworkTestHarness on real reference-node processes: passes on the real node and fails on
the no-gossip and ignore-max-peers seeded-bug nodes, leaving no process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.network import NetworkTestHarness
from alys_test_framework.results import TestResult, TestStatus
from alys_test_framework.testing import run_harness

NODE = ["{python}", "-m", "alys_node"]


def _config() -> TestConfig:
    cfg = TestConfig.development()
    net = cfg.network.model_copy(
        update={"discovery_nodes": 4, "node_count": 3, "convergence_timeout_s": 20}
    )
    return cfg.model_copy(update={"network": net})


def _run(tmp_path: Path, target: list[str] | None, only: list[str] | None) -> list[TestResult]:
    return run_harness(NetworkTestHarness, _config(), tmp_path, target=target, only=only)


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole harness run; a loaded 2-core machine is slow
def test_network_harness_passes_on_reference_node(tmp_path: Path) -> None:
    results = _run(tmp_path, None, None)
    assert {r.category for r in results} == set(NetworkTestHarness.categories)
    assert all(r.passed for r in results), [(r.name, r.message) for r in results]
    by = {r.name: r for r in results}
    prop = by["test_block_propagation"].metrics
    assert 0 < prop["p50_ms"] <= prop["p95_ms"] <= prop["p99_ms"]
    assert by["test_high_latency_convergence"].metrics["p50_ms"] >= 150


@pytest.mark.parametrize(
    ("bug", "test", "prop", "rule"),
    [
        (
            "no-gossip",
            "test_block_propagation",
            "gossip forwarded at every hop",
            "checker gossip: [G4]",
        ),
        (
            "ignore-max-peers",
            "test_max_peers_enforced",
            "max peers held",
            "checker peer_limit: [P4]",
        ),
    ],
)
def test_seeded_bug_fails_its_network_test(
    tmp_path: Path, bug: str, test: str, prop: str, rule: str | None
) -> None:
    """Failed by the scenario's own property and by a checker naming the rule id."""
    [r] = _run(tmp_path, [*NODE, "--seeded-bug", bug], [test])
    assert r.status is TestStatus.FAILED, (r.status, r.message)
    assert prop in r.message
    if rule is not None:
        assert rule in r.message, r.message
    assert r.metrics["history"].endswith(f"network.{test}.jsonl")
    assert r.metrics["node_logs"], "merged node logs attached to the failure"
