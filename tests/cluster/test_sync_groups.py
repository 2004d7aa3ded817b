"""The original SyncTestHarness's groups (parallel sync, resilience, checkpoints): each new test
fails on a broken target of its own (a seeded node bug from alys_node.bugs), naming the
violated property, and where a history rule breaks the checker's rule id."""

from __future__ import annotations

from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.sync import SyncTestHarness
from alys_test_framework.results import TestResult, TestStatus
from alys_test_framework.testing import run_harness

NODE = ["{python}", "-m", "alys_node"]


def _config(timeout_s: float = 60.0) -> TestConfig:
    cfg = TestConfig.development()
    sync = cfg.sync.model_copy(update={"timeout_s": timeout_s, "stall_s": 8.0})
    return cfg.model_copy(update={"sync": sync})


def _run(tmp_path: Path, bug: str, test: str) -> TestResult:
    [r] = run_harness(
        SyncTestHarness, _config(), tmp_path, target=[*NODE, "--seeded-bug", bug], only=[test]
    )
    return r


CASES = [
    # (bug, test, property named in the failure, extra text that must be in it)
    ("hedged-ranges", "test_sync_coordination",
     "ranges never fetched twice from different peers except after a failure", "double fetches"),
    ("single-source-sync", "test_multi_peer_load_balancing",
     "ranges spread over the sources", "balance 0."),
    ("shared-serve-slot", "test_concurrent_sync_sessions",
     "every concurrent session reaches the head", None),
    ("exact-successor-commit", "test_race_condition_handling",
     "sync completes through disconnections and gossip races", "stalled"),
    ("no-range-reassign", "test_parallel_sync_with_failures",
     "parallel sync with a lost source completes", "stalled"),
    # test_peer_disconnection_resilience has no broken target here: no-range-reassign failed it
    # only on a loaded machine (a cut source comes back and is asked again, which "recovers")
    ("accept-bad-signatures", "test_corrupted_block_handling", "corrupted blocks rejected", None),
    ("accept-bad-signatures", "test_chain_validation",
     "the synced chain is valid from genesis (oracle)", "[B1]"),
    ("no-durability", "test_recovery_scenarios",
     "the reported head survives a restart at every phase of a sync", "checker durability: [D"),
]  # fmt: skip
# nine nodes each (the sessions), or a second run of a scenario another case already fails
SLOW = {
    "test_concurrent_sync_sessions", "test_sync_coordination", "test_multi_peer_load_balancing",
    "test_corrupted_block_handling", "test_parallel_sync_with_failures",
}  # fmt: skip


@pytest.mark.parametrize(
    ("bug", "test", "prop", "extra"),
    [pytest.param(*c, marks=[pytest.mark.slow] if c[1] in SLOW else []) for c in CASES],
    ids=[f"{c[1]}[{c[0]}]" for c in CASES],
)
@pytest.mark.timeout(300)
def test_seeded_bug_fails_its_group_test(
    tmp_path: Path, bug: str, test: str, prop: str, extra: str | None
) -> None:
    r = _run(tmp_path, bug, test)
    assert r.status is TestStatus.FAILED, f"{r.status.value}: {r.message}"
    assert prop in r.message, r.message
    if extra is not None:
        assert extra in r.message, r.message
    assert r.metrics["node_logs"], "merged node logs attached to the failure"


def test_every_original_name_is_a_harness_test() -> None:
    from alys_test_framework.harness.sync.groups import ORIGINAL_GROUPS

    ours = {name for name, _, _ in SyncTestHarness.test_methods()}
    mapped = {t for names in ORIGINAL_GROUPS.values() for t in names.values()}
    assert mapped <= ours, mapped - ours
    assert sum(len(v) for v in ORIGINAL_GROUPS.values()) == 19  # the original's 19 names


def test_sync_quality_gates_fail_below_the_originals_defaults() -> None:
    """The validator reads the figures the tests recorded; each gate fails on its own."""
    from alys_test_framework.results import Verdict
    from alys_test_framework.validators import sync_quality_validator

    def res(name: str, status: TestStatus = TestStatus.PASSED, **m: object) -> TestResult:
        return TestResult(name, "sync", "x", status, 1.0, "", dict(m))

    good = [
        res("test_full_sync", blocks_per_s=150.0),
        res("test_checkpoint_interval_configurable", intervals_ok=[10, 25, 250]),
        res("test_concurrent_sync_sessions", sessions_completed=6),
        *(res(t) for t in ("test_source_killed_mid_sync", "test_recovery_scenarios")),
    ]
    cfg = TestConfig.development()
    assert sync_quality_validator(good, cfg).status is Verdict.PASSED
    bad = {
        "full_sync_blocks_per_s": res("test_full_sync", blocks_per_s=99.0),
        "checkpoint_intervals": res("test_checkpoint_interval_configurable", intervals_ok=[10]),
        "parallel_sessions": res("test_concurrent_sync_sessions", sessions_completed=5),
        "resilience_recovery": res("test_recovery_scenarios", TestStatus.FAILED),
    }
    for gate, broken in bad.items():
        results = [broken if r.name == broken.name else r for r in good]
        v = sync_quality_validator(results, cfg)
        assert v.status is Verdict.FAILED and gate in v.message, (gate, v.message)
    assert sync_quality_validator([], cfg).status is Verdict.SKIPPED
