"""NetworkTestHarness: discovery, gossip, connection limits, partitions, corruption, latency.

All links between cluster nodes except the discovery test's bootnode links pass through the
FaultProxy, so partitions and corrupted or slow links are real TCP behaviour. Propagation is
measured with the ``received_at`` stamp each node puts on a block, on one machine clock.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from ..targets.cluster import ClusterTimeout, NodeCluster, Partition, RpcError, RpcUnavailable
from ..targets.cluster.fixture import ChainFixture, NodeTarget, attached_cluster
from ..targets.cluster.measure import blocks_at, percentile
from .base import BaseHarness, HarnessContext, Outcome, harness_test

GOSSIP_BLOCKS = 5  # blocks whose propagation is timed
HOP_FACTOR = 10.0  # a gossip hop may be this many times slower than the first hop (median)
HOP_FLOOR_S = 0.05  # ... but never has to beat 50 ms (scheduling noise on a loaded machine)


class NetworkTestHarness(BaseHarness):
    name = "network"
    categories = (
        "discovery",
        "propagation",
        "connection_management",
        "partition",
        "corruption",
        "latency",
    )

    def __init__(self, ctx: HarnessContext, target: Any = None) -> None:
        super().__init__(ctx)
        self.net = ctx.config.network
        self.target = NodeTarget.parse(target, self.net.node_command)
        self.fixture = ChainFixture(
            self.target,
            Path(ctx.workdir) / "network",
            ctx.events,
            authorities=2,  # two producers can fork a partitioned network
            checkpoint_interval=ctx.config.sync.checkpoint_interval,
        )
        self.timeout_s = self.net.convergence_timeout_s

    async def health_check(self) -> bool:
        try:
            await self.fixture.init_spec()
        except Exception:
            return False
        return True

    async def initialize(self) -> None:
        await self.fixture.init_spec()

    # -- helpers ----------------------------------------------------------------------------
    async def _start(self, c: NodeCluster, n: int, extra: list[str] | None = None) -> None:
        """Node 0 produces (dev mode); the others follow."""
        await self.fixture.init_spec()
        await c.add_node(self.fixture.producer_args() + (extra or []))
        for _ in range(n - 1):
            await c.add_node(self.fixture.follower_args() + (extra or []))

    async def _peer_counts(self, c: NodeCluster, idx: list[int] | None = None) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for i in idx if idx is not None else c.live_indices():
            try:
                out[i] = len(await c.nodes[i].call("admin_peers", timeout_s=5))
            except (RpcError, RpcUnavailable) as exc:
                out[i] = f"unreachable: {exc}"
        return out

    async def _wait_peered(self, c: NodeCluster, want: dict[int, int]) -> None:
        async def ok() -> tuple[bool, Any]:
            counts = await self._peer_counts(c, list(want))
            return all(
                isinstance(counts[i], int) and counts[i] >= w for i, w in want.items()
            ), counts

        await c.wait_until(ok, self.timeout_s, f"peer counts at least {want}")

    async def _produce_one(self, c: NodeCluster) -> tuple[int, str]:
        head = await c.nodes[0].call("dev_produceBlocks", 1)
        return int(head["height"]), head["hash"]

    async def _latencies(
        self, c: NodeCluster, heights: list[int], idx: list[int]
    ) -> dict[int, list[float]]:
        """Per node: received_at(node) - received_at(producer) for each height."""
        origin = await blocks_at(c.nodes[0], heights)
        out: dict[int, list[float]] = {}
        for i in idx:
            got = await blocks_at(c.nodes[i], heights)
            out[i] = [
                float(got[h]["received_at"]) - float(origin[h]["received_at"])
                for h in heights
                if isinstance(got[h], dict) and got[h].get("received_at") is not None
            ]
        return out

    # -- discovery --------------------------------------------------------------------------
    @harness_test("discovery")
    async def test_peer_discovery(self, out: Outcome) -> None:
        """n nodes given only one bootnode each find at least k peers (direct links)."""
        n, k = (
            self.net.discovery_nodes,
            min(self.net.min_discovered_peers, self.net.discovery_nodes - 1),
        )
        async with attached_cluster(self.fixture, out, "discovery") as c:
            await self.fixture.init_spec()
            boot = await c.add_node(self.fixture.follower_args())
            t0 = time.monotonic()
            for _ in range(n - 1):
                await c.add_node(self.fixture.follower_args() + ["--bootnode", boot.p2p_addr])
            started = time.monotonic() - t0
            try:
                waited, counts = await c.wait_until(
                    lambda: self._all_at_least(c, k), self.timeout_s, f"every node has >= {k} peers"
                )
            except ClusterTimeout as exc:
                out.expect(False, f"every node discovers at least {k} peers", str(exc))
                return
            out.record(
                nodes=n, k=k, discovery_s=round(waited, 3), start_s=round(started, 3),
                peers_per_node=counts, min_peers=min(counts.values()),
            )  # fmt: skip
            out.expect(min(counts.values()) >= k, f"every node discovers at least {k} peers")

    async def _all_at_least(self, c: NodeCluster, k: int) -> tuple[bool, Any]:
        counts = await self._peer_counts(c)
        return all(isinstance(v, int) and v >= k for v in counts.values()), counts

    # -- propagation ------------------------------------------------------------------------
    @harness_test("propagation")
    async def test_block_propagation(self, out: Outcome) -> None:
        """Gossip over a line of nodes: every block reaches every node, hop by hop."""
        n = max(3, self.net.node_count)
        async with attached_cluster(self.fixture, out, "propagation") as c:
            await self._start(c, n)
            await c.connect_pairs([(i + 1, i) for i in range(n - 1)])  # 0 - 1 - 2 - ...
            await self._wait_peered(c, {0: 1, n - 1: 1, **{i: 2 for i in range(1, n - 1)}})
            heights = []
            # one block at a time, each waited for everywhere: every block is a fresh sample
            # of each hop's latency, not a batch riding on one slow sync round
            for _ in range(GOSSIP_BLOCKS):
                h, _ = await self._produce_one(c)
                heights.append(h)
                try:
                    await c.wait_heads_in_sync(self.timeout_s, min_height=h)
                except ClusterTimeout as exc:
                    out.require(False, "every block reaches every node", str(exc))
                lat = await self._latencies(c, heights, list(range(1, n)))
                if _slow_hops(lat, all_in=len(heights) > GOSSIP_BLOCKS // 2)[1]:
                    break  # most of the planned samples already show a slow hop: stop early
            allv = [v for vs in lat.values() for v in vs]
            med = {i: statistics.median(vs) for i, vs in lat.items() if vs}
            hop, slow = _slow_hops(lat)
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
            out.expect(
                not slow,
                "gossip forwarded at every hop",
                f"median latency at hop distance exceeds hops x {hop:.3f} s: {slow}",
            )

    # -- connection management ----------------------------------------------------------------
    @harness_test("connection_management")
    async def test_max_peers_enforced(self, out: Outcome) -> None:
        m = min(self.net.max_peers, 2)
        dialers = m + 2
        async with attached_cluster(self.fixture, out, "max-peers") as c:
            await c.add_node(self.fixture.follower_args() + ["--max-peers", str(m)])
            for _ in range(dialers):
                await c.add_node(self.fixture.follower_args())
            for i in range(1, dialers + 1):
                await c.connect(i, 0)
            samples: list[Any] = []

            async def all_tried() -> tuple[bool, Any]:
                count = (await self._peer_counts(c, [0]))[0]
                samples.append(count)
                tried = all(c.proxy.stats_for(i, 0).connections >= 1 for i in range(1, dialers + 1))
                return tried and len(samples) >= 5, {"node-0 peers": count}

            await c.wait_until(all_tried, self.timeout_s, "every dialer reached node-0")
            counts = [s for s in samples if isinstance(s, int)]
            out.record(max_peers=m, dialers=dialers, peers_max_observed=max(counts, default=None))
            out.expect(
                bool(counts) and max(counts) <= m,
                "max peers held",
                f"node-0 held {max(counts, default=None)} peers with --max-peers {m}",
            )
            out.expect(bool(counts) and max(counts) >= 1, "connections accepted up to the limit")

    @harness_test("connection_management")
    async def test_reconnect_after_restart(self, out: Outcome) -> None:
        async with attached_cluster(self.fixture, out, "reconnect") as c:
            await self._start(c, 2)
            await c.connect(1, 0)
            await self._wait_peered(c, {0: 1, 1: 1})
            await c.restart(0)  # SIGKILL + start on the same datadir
            t0 = time.monotonic()
            try:
                await self._wait_peered(c, {0: 1, 1: 1})
                reconnect_s = time.monotonic() - t0
                h, _ = await self._produce_one(c)
                await c.wait_heads_in_sync(self.timeout_s, min_height=h)
            except ClusterTimeout as exc:
                out.expect(False, "peers reconnect after a restart", str(exc))
                return
            out.record(reconnect_s=round(reconnect_s, 3))
            out.expect(reconnect_s <= self.timeout_s, "peers reconnect after a restart")

    # -- partition --------------------------------------------------------------------------
    @harness_test("partition")
    async def test_partition_and_heal(self, out: Outcome) -> None:
        """Each shape: the producer's side converges, the cut-off side does not, heal converges."""
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
            heal_s: dict[str, float] = {}
            for k, shape in enumerate(shapes):
                if not shape.blocked:
                    continue  # e.g. a ring of 3 is a full mesh
                mode = "close" if k == 0 else "drop"
                side = _component(0, n, shape)
                rec = c.proxy.partition(shape, mode=mode)
                h, _ = await self._produce_one(c)
                try:
                    await c.wait_heads_in_sync(self.timeout_s, sorted(side), min_height=h)
                except ClusterTimeout as exc:
                    out.expect(False, f"producer side converges during {shape.name}", str(exc))
                heads = await c.heads()
                leaked = [i for i in range(n) if i not in side and _height(heads[i]) >= h]
                out.require(not leaked, "the partition was effective", f"{shape.name}: {heads}")
                c.proxy.clear(rec)
                t0 = time.monotonic()
                try:
                    await c.wait_heads_in_sync(self.timeout_s, min_height=h)
                    heal_s[shape.name] = round(time.monotonic() - t0, 3)
                except ClusterTimeout as exc:
                    out.expect(False, f"heads converge after healing {shape.name}", str(exc))
            out.record(nodes=n, heal_convergence_s=heal_s)
            out.expect(bool(heal_s), "partitions were exercised", "no shape applied")

    @harness_test("partition")
    async def test_fork_resolution_after_heal(self, out: Outcome) -> None:
        """Both sides of a partition produce (two authorities): after heal every node adopts
        the longer branch, the shorter side reorganises."""
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
            rec = c.proxy.partition(Partition.between("producers-split", side_a, side_b))
            await c.nodes[0].call("dev_produceBlocks", short)
            head_b = await c.nodes[1].call("dev_produceBlocks", long_)
            try:
                await c.wait_heads_in_sync(self.timeout_s, side_a, min_height=short)
                await c.wait_heads_in_sync(self.timeout_s, side_b, min_height=long_)
            except ClusterTimeout as exc:
                out.expect(False, "each side converges on its own branch", str(exc))
            heads = await c.heads()
            out.require(
                heads[0] != heads[1], "the partition produced two branches", f"heads {heads}"
            )
            c.proxy.clear(rec)
            t0 = time.monotonic()
            try:
                _, final = await c.wait_heads_in_sync(self.timeout_s, min_height=long_)
            except ClusterTimeout as exc:
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

    # -- corruption -------------------------------------------------------------------------
    @harness_test("corruption")
    async def test_corrupted_messages(self, out: Outcome) -> None:
        """Node 1's bytes to node 2 are corrupted: node 2 bans it, survives, others unaffected."""
        async with attached_cluster(self.fixture, out, "corruption") as c:
            await self._start(c, 3)
            await c.connect_pairs([(1, 0), (2, 0), (2, 1)])
            await self._wait_peered(c, {0: 2, 1: 2, 2: 2})
            rec = c.proxy.apply([(1, 2)], "corrupt", corrupt=1.0)
            produced = 0

            async def banned() -> tuple[bool, Any]:
                nonlocal produced
                await self._produce_one(c)  # traffic for the corruption to hit
                produced += 1
                bans = await c.nodes[2].call("admin_bans")
                return bool(bans), bans

            try:
                waited, bans = await c.wait_until(banned, self.timeout_s, "node-2 bans node-1")
                out.record(ban_s=round(waited, 3), bans=bans)
            except ClusterTimeout as exc:
                out.expect(False, "corrupting sender banned", str(exc))
            c.proxy.clear(rec)
            out.record(corrupted_chunks=c.proxy.stats_for(1, 2).corrupted, blocks=produced)
            alive = c.nodes[2].proc is not None and c.nodes[2].proc.returncode is None
            out.expect(alive, "no crash on corrupted input", "node-2 exited")
            h, _ = await self._produce_one(c)
            try:
                await c.wait_heads_in_sync(self.timeout_s, min_height=h)
            except ClusterTimeout as exc:
                out.expect(False, "other nodes unaffected", str(exc))
            bans0 = await c.nodes[0].call("admin_bans")
            out.expect(not bans0, "honest links unaffected", f"node-0 banned {bans0}")

    # -- latency ----------------------------------------------------------------------------
    @harness_test("latency")
    async def test_high_latency_convergence(self, out: Outcome) -> None:
        n = max(3, self.net.node_count)
        lat_ms, jit_ms = self.net.high_latency_ms, min(self.net.jitter_ms, self.net.high_latency_ms)
        async with attached_cluster(self.fixture, out, "latency") as c:
            await self._start(c, n)
            pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
            loss = self.net.failure_rate  # lost segments cost a retransmission, TCP-style
            c.proxy.apply(pairs, "latency", latency_ms=lat_ms, jitter_ms=jit_ms, loss=loss)
            await c.connect_full_mesh()
            await self._wait_peered(c, {i: n - 1 for i in range(n)})
            heights = [(await self._produce_one(c))[0] for _ in range(3)]
            t0 = time.monotonic()
            try:
                await c.wait_heads_in_sync(self.timeout_s, min_height=heights[-1])
            except ClusterTimeout as exc:
                out.require(False, "nodes converge over high-latency links", str(exc))
            conv = time.monotonic() - t0
            lat = await self._latencies(c, heights, list(range(1, n)))
            allv = [v for vs in lat.values() for v in vs]
            out.record(
                link_latency_ms=lat_ms, jitter_ms=jit_ms, loss=loss, convergence_s=round(conv, 3),
                p50_ms=round(percentile(allv, 50) * 1000, 1),
                p99_ms=round(percentile(allv, 99) * 1000, 1),
            )  # fmt: skip
            floor = (lat_ms - jit_ms) / 1000
            out.require(
                bool(allv) and min(allv) >= floor * 0.9,
                "latency was injected",
                f"fastest propagation {min(allv, default=0):.3f} s < link floor {floor:.3f} s",
            )
            out.expect(conv <= self.timeout_s, "nodes converge over high-latency links")


def _slow_hops(lat: dict[int, list[float]], all_in: bool = True) -> tuple[float, dict[int, float]]:
    """(per-hop bound, {hop distance: median latency}) for nodes slower than distance x bound.

    Node i of the line is i hops from the producer; the bound is measured, not assumed: a
    multiple of the first hop's median latency in the same run. With ``all_in=False`` nothing
    is reported yet (too few blocks to call a median).
    """
    if not all_in or not lat.get(1):
        return 0.0, {}
    hop = max(HOP_FLOOR_S, HOP_FACTOR * statistics.median(lat[1]))
    med = {i: statistics.median(vs) for i, vs in lat.items() if vs}
    return hop, {i: round(m, 4) for i, m in med.items() if m > i * hop}


def _component(start: int, n: int, shape: Partition) -> set[int]:
    """Nodes reachable from ``start`` over allowed links (multi-hop)."""
    seen, todo = {start}, [start]
    while todo:
        a = todo.pop()
        for b in range(n):
            if b not in seen and shape.allows(a, b):
                seen.add(b)
                todo.append(b)
    return seen


def _height(head: Any) -> int:
    return head[0] if isinstance(head, tuple) else -1
