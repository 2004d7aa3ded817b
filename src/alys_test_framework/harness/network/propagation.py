"""Propagation: gossip over a line of nodes; every block reaches every node, hop by hop, with
each hop's latency measured from the nodes' own receipt stamps."""

from __future__ import annotations

import statistics

from ...checkers import CheckerBounds
from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import percentile
from ...waiting import WaitTimeout
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase, slow_hops
from .kit.base import GOSSIP_BLOCKS


class PropagationTests(NetworkHarnessBase):
    @harness_test("propagation")
    async def test_block_propagation(self, out: Outcome) -> None:
        """Gossip over a line of nodes: every block reaches every node, hop by hop."""
        self._needs(out, "admin_peers", "new_blocks", "received_at")
        n = max(3, self.net.node_count)
        async with attached_cluster(self.fixture, out, "propagation") as c:
            await self._start(c, n)
            await c.connect_pairs([(i + 1, i) for i in range(n - 1)])  # 0 - 1 - 2 - ...
            await self._wait_peered(c, {0: 1, n - 1: 1, **{i: 2 for i in range(1, n - 1)}})
            heights: list[int] = []
            lat: dict[int, list[float]] = {}
            # one block at a time, each waited for everywhere: every block is a fresh sample
            # of each hop's latency, not a batch riding on one slow sync round
            for _ in range(GOSSIP_BLOCKS):
                h, _ = await self._produce_one(c)
                heights.append(h)
                try:
                    await c.wait_heads_in_sync(self.timeout_s, min_height=h)
                except WaitTimeout as exc:
                    out.require(False, "every block reaches every node", str(exc))
                lat = await self._latencies(c, heights, list(range(1, n)))
                if slow_hops(lat, all_in=len(heights) > GOSSIP_BLOCKS // 2)[1]:
                    break  # most of the planned samples already show a slow hop: stop early
            allv = [v for vs in lat.values() for v in vs]
            med = {i: statistics.median(vs) for i, vs in lat.items() if vs}
            hop, slow = slow_hops(lat)
            out.record(
                nodes=n, blocks=len(heights),
                p50_ms=round(percentile(allv, 50) * 1000, 2),
                p95_ms=round(percentile(allv, 95) * 1000, 2),
                p99_ms=round(percentile(allv, 99) * 1000, 2),
                median_s_by_hops={i: round(m, 4) for i, m in med.items()},
                hop_bound_sec=round(hop, 4),
            )  # fmt: skip
            out.expect(
                all(len(lat[i]) == len(heights) for i in lat), "every block reaches every node"
            )
            if hop > 0:  # G4 per node: the farthest node's bound, measured in this run
                c.checker_bounds = CheckerBounds(
                    convergence_s=self.timeout_s, gossip_latency_s=hop * (n - 1)
                )
            out.expect(
                not slow,
                "gossip forwarded at every hop",
                f"median latency at hop distance exceeds hops x {hop:.3f} s: {slow}",
            )
