"""The original SyncTestHarness's four groups (tests/src/framework/harness/sync.rs, v2 branch)
and the test of ours that covers each of its names.

Why a table: reports carry our test names; readers of the original's ALYS-002-11..15 look
for its names. Each result gets ``original_names`` in its metrics from here, and the suite
checks that every name maps to a real test of the harness.
"""

from __future__ import annotations

ORIGINAL_GROUPS: dict[str, dict[str, str]] = {
    "full_sync": {
        "genesis_to_tip": "test_full_sync",
        "large_chain": "test_full_sync",  # sync.max_chain_height (10,000) + extra_heights
        "sync_performance": "test_sync_performance",
    },
    "resilience": {
        "network_failure_resilience": "test_source_killed_mid_sync",
        "cascading_peer_disconnections": "test_cascading_disconnections",
        "peer_disconnection_resilience": "test_peer_disconnection_resilience",
        "corrupted_block_handling": "test_corrupted_block_handling",
        "partition_tolerance": "test_sync_across_partition",
    },
    "checkpoints": {
        "creation_consistency": "test_checkpoint_consistency",
        "configurable_intervals": "test_checkpoint_interval_configurable",
        "recovery_scenarios": "test_recovery_scenarios",
        "chain_validation": "test_chain_validation",
        "corruption_handling": "test_store_corruption_detected",
    },
    "parallel_sync": {
        "concurrent_sync_sessions": "test_concurrent_sync_sessions",
        "sync_coordination": "test_sync_coordination",
        "multi_peer_load_balancing": "test_multi_peer_load_balancing",
        "race_condition_handling": "test_race_condition_handling",
        "parallel_sync_with_failures": "test_parallel_sync_with_failures",
        "parallel_sync_performance": "test_parallel_speedup",
    },
}


def original_names(test: str) -> list[str]:
    """``group.name`` of every original test ``test`` covers."""
    return [
        f"{g}.{n}" for g, names in ORIGINAL_GROUPS.items() for n, t in names.items() if t == test
    ]
