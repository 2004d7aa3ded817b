"""Discovery: nodes given one bootnode each find further peers by peer exchange (direct links,
not through the proxy: discovery learns real addresses)."""

from __future__ import annotations

import time
from typing import Any

from ...targets.cluster import NodeCluster
from ...targets.cluster.fixture import attached_cluster
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase


class DiscoveryTests(NetworkHarnessBase):
    @harness_test("discovery")
    async def test_peer_discovery(self, out: Outcome) -> None:
        """n nodes given only one bootnode each find at least k peers (direct links)."""
        self._needs(out, "admin_peers")
        n = self.net.discovery_nodes
        k = min(self.net.min_discovered_peers, n - 1)
        async with attached_cluster(self.fixture, out, "discovery") as c:
            await self.fixture.init_spec()
            boot = await c.add_node(self.fixture.follower_args())
            bootnode = self.target.profile.flag("bootnode")
            t0 = time.monotonic()
            for _ in range(n - 1):
                await c.add_node(self.fixture.follower_args() + [bootnode, boot.p2p_addr])
            started = time.monotonic() - t0
            counts: dict[int, Any] = {}
            t1 = time.monotonic()
            try:
                await wait_until(
                    lambda: self._all_at_least(c, k, counts), self.timeout_s,
                    f"every node has >= {k} peers", observe=lambda: counts,
                )  # fmt: skip
            except WaitTimeout as exc:
                out.fail(f"every node discovers at least {k} peers", str(exc))
                return
            out.record(
                nodes=n, k=k, discovery_s=round(time.monotonic() - t1, 3),
                start_s=round(started, 3), peers_per_node=dict(counts),
                min_peers=min(counts.values()),
            )  # fmt: skip
            out.expect(min(counts.values()) >= k, f"every node discovers at least {k} peers")

    async def _all_at_least(self, c: NodeCluster, k: int, seen: dict[int, Any]) -> bool:
        seen.update(await self._peer_counts(c))
        return all(isinstance(v, int) and v >= k for v in seen.values())
