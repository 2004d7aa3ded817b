"""Partitions: for each shape (halves, isolate, majority/minority, ring, bridge) the producer's
side converges and the cut-off side does not; after heal every node converges, and when both
sides produced, every node adopts the longer branch."""

from __future__ import annotations

import time

from ...targets.cluster import Partition
from ...targets.cluster.fixture import attached_cluster, produce_blocks
from ...waiting import WaitTimeout
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase, component, height_of


class PartitionTests(NetworkHarnessBase):
    @harness_test("partition")
    async def test_partition_and_heal(self, out: Outcome) -> None:
        """Each shape: the producer's side converges, the cut-off side does not, heal converges."""
        self._needs(out, "admin_peers", "new_blocks")
        n = max(3, self.net.node_count)
        shapes = [
            Partition.halves(n),
            Partition.isolate(n, n - 1),
            Partition.majority_minority(n),
            Partition.ring(n),
            Partition.bridge(n),
        ]
        async with attached_cluster(self.fixture, out, "partition") as c:
            await self._start(c, n)
            await c.connect_full_mesh()
            await self._wait_peered(c, {i: n - 1 for i in range(n)})
            assert c.proxy is not None
            heal_s: dict[str, float] = {}
            for k, shape in enumerate(shapes):
                if not shape.blocked:
                    continue  # e.g. a ring of 3 is a full mesh
                side = component(0, n, shape)
                rec = c.proxy.partition(shape, mode="close" if k == 0 else "drop")
                h, _ = await self._produce_one(c)
                try:
                    await c.wait_heads_in_sync(self.timeout_s, sorted(side), min_height=h)
                except WaitTimeout as exc:
                    out.fail(f"producer side converges during {shape.name}", str(exc))
                heads = await c.heads()
                leaked = [i for i in range(n) if i not in side and height_of(heads[i]) >= h]
                out.require(not leaked, "the partition was effective", f"{shape.name}: {heads}")
                c.proxy.clear(rec)
                t0 = time.monotonic()
                try:
                    await c.wait_heads_in_sync(self.timeout_s, min_height=h)
                    heal_s[shape.name] = round(time.monotonic() - t0, 3)
                except WaitTimeout as exc:
                    out.fail(f"heads converge after healing {shape.name}", str(exc))
            out.record(nodes=n, heal_convergence_s=heal_s)
            out.expect(bool(heal_s), "partitions were exercised", "no shape applied")

    @harness_test("partition")
    async def test_fork_resolution_after_heal(self, out: Outcome) -> None:
        """Both sides of a partition produce (two authorities): after heal every node adopts
        the longer branch, the shorter side reorganises."""
        self._needs(out, "admin_peers", "dev_produceBlocks")
        n = max(4, self.net.node_count)
        short, long_ = 3, 6  # blocks produced per side; well inside any sane reorg limit
        async with attached_cluster(self.fixture, out, "fork") as c:
            await self._start(c, n)  # node 0 produces as authority 0
            await c.stop(1)
            await c.restart(1, args=self.fixture.producer_args(authority=1), kill=False)
            await c.connect_full_mesh()
            await self._wait_peered(c, {i: n - 1 for i in range(n)})
            side_a = [i for i in range(n) if i % 2 == 0]
            side_b = [i for i in range(n) if i % 2 == 1]
            assert c.proxy is not None
            rec = c.proxy.partition(Partition.between("producers-split", side_a, side_b))
            await produce_blocks(c.nodes[0], short, c.recorder)
            head_b = await produce_blocks(c.nodes[1], long_, c.recorder)
            try:
                await c.wait_heads_in_sync(self.timeout_s, side_a, min_height=short)
                await c.wait_heads_in_sync(self.timeout_s, side_b, min_height=long_)
            except WaitTimeout as exc:
                out.fail("each side converges on its own branch", str(exc))
            heads = await c.heads()
            out.require(
                heads[0] != heads[1], "the partition produced two branches", f"heads {heads}"
            )
            c.proxy.clear(rec)
            t0 = time.monotonic()
            try:
                _, final = await c.wait_heads_in_sync(self.timeout_s, min_height=long_)
            except WaitTimeout as exc:
                out.require(False, "heads converge to one chain after heal", str(exc))
            out.record(
                nodes=n, short_branch=short, long_branch=long_,
                fork_resolution_s=round(time.monotonic() - t0, 3),
            )  # fmt: skip
            out.expect(
                final[1] == head_b["hash"],
                "the longer branch wins",
                f"converged on {final}, longer branch head {head_b}",
            )
