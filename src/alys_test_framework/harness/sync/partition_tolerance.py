"""Partition tolerance: each side of a partition keeps syncing from its own source, and every
node converges on the producer's chain once the partition heals."""

from __future__ import annotations

import time

from ...targets.cluster import NodeCluster, Partition
from ...targets.cluster.fixture import attached_cluster, produce
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase


class PartitionToleranceTests(SyncHarnessBase):
    @harness_test("partition_tolerance")
    async def test_sync_across_partition(self, out: Outcome) -> None:
        """Each side of a partition syncs from its own source; all converge after heal."""
        self._needs(out, "admin_peers", "dev_produceBlocks")
        h = self.scenario_height
        extra = max(5, h // 20)
        top = h + extra
        async with attached_cluster(self.fixture, out, "partition") as c:
            await self.fixture.template(h)
            dest = self.fixture.copy_template(h, c.root / "producer")
            await c.add_node(self.fixture.producer_args(), datadir=dest)  # 0: producer
            f1 = await self._follower(c)  # 1, producer side
            [s2] = await self._sources(c, 1, h)  # 2, other side
            f2 = await self._follower(c)  # 3
            await c.connect_full_mesh()
            peers: dict[int, int] = {}
            await wait_until(
                lambda: self._all_peered(c, 3, peers), self.timeout_s,
                "every node peered with 3", observe=lambda: peers,
            )  # fmt: skip
            assert c.proxy is not None
            cut = c.proxy.partition(Partition.between("halves", [0, f1], [s2, f2]))
            await produce(c.nodes[0], top, recorder=c.recorder)
            try:
                await c.wait_heads_in_sync(self.timeout_s, [0, f1], min_height=top)
                await c.wait_heads_in_sync(self.timeout_s, [s2, f2], min_height=h)
            except WaitTimeout as exc:
                out.fail("sync continues inside each side of a partition", str(exc))
            heads = await c.heads()
            out.require(
                all(heads[i][0] < top for i in (s2, f2) if isinstance(heads[i], tuple)),
                "the partition was effective",
                f"cut-off side saw new blocks: {heads}",
            )
            c.proxy.clear(cut)
            t0 = time.monotonic()
            try:
                await c.wait_heads_in_sync(
                    self.config.network.convergence_timeout_s, min_height=top
                )
                out.record(heal_convergence_s=round(time.monotonic() - t0, 3))
            except WaitTimeout as exc:
                out.fail("heads converge after heal", str(exc))
            out.record(blocks=h, partition=cut.params.get("groups"), extra_blocks=extra)

    @staticmethod
    async def _all_peered(c: NodeCluster, n: int, seen: dict[int, int]) -> bool:
        for i in c.live_indices():
            seen[i] = len(await c.nodes[i].call("admin_peers"))
        return all(v >= n for v in seen.values())
