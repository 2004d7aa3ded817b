"""Three real nodes on loopback: node 0 produces, the others sync, one link is slow."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.node_cluster(size=3, faults={(0, 2): {"latency_ms": 50}, (2, 0): {"latency_ms": 50}})
def test_blocks_reach_every_node(node_cluster: Any) -> None:
    node_cluster.produce(20)
    height, block_hash = node_cluster.wait_in_sync(min_height=20, timeout_s=60)
    assert height == 20
    assert all(h == (20, block_hash) for h in node_cluster.heads().values())
