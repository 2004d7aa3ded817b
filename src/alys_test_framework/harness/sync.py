"""SyncTestHarness: real node processes syncing real, signed blocks through faulty links.

Every verdict is read back from the nodes (heads, block hashes and signatures, checkpoints,
``received_at``) or from the proxy's counters. Faults are injected at *observed* sync progress
(a height reported by the syncing node), so "mid-sync" is a measured fact, not a guess.
Slow links (a bandwidth cap on the proxy) stretch a sync to a few seconds where a fault must
land during it; the cap is derived from the measured bytes per block.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from ..targets.cluster import ClusterError, ClusterTimeout, NodeCluster, Partition
from ..targets.cluster.byzantine import BlockForger
from ..targets.cluster.fixture import ChainFixture, NodeTarget, attached_cluster, produce
from ..targets.cluster.measure import (
    SyncCurve,
    blocks_at,
    chain_mismatches,
    follow_sync,
    received_span,
    sample_heights,
)
from .base import BaseHarness, HarnessContext, Outcome, harness_test

SAMPLES = 200  # blocks compared per chain check
PARALLEL_BLOCKS_PER_SOURCE = 500
# Floor of the parallel test's link cap: a slower link makes a source miss a node's stall
# deadline with its request window in flight, which measures the stall policy, not parallelism.
MIN_LINK_BPS = 40_000.0
PARALLEL_MAX_BLOCKS = 2000  # the speedup needs several ranges per source, not the full chain


class SyncTestHarness(BaseHarness):
    name = "sync"
    categories = (
        "full_sync",
        "performance",
        "resilience",
        "byzantine",
        "partition_tolerance",
        "checkpoints",
        "parallel_sync",
    )

    def __init__(self, ctx: HarnessContext, target: Any = None) -> None:
        super().__init__(ctx)
        self.target = NodeTarget.parse(target, ctx.config.network.node_command)
        self.height = ctx.config.sync.max_chain_height
        self.timeout_s = ctx.config.sync.timeout_s
        self.fixture = ChainFixture(
            self.target,
            Path(ctx.workdir) / "sync",
            ctx.events,
            checkpoint_interval=ctx.config.sync.checkpoint_interval,
        )
        self.bytes_per_block = 200.0  # replaced by the first measured sync
        self._single: SyncCurve | None = None

    # -- protocol ---------------------------------------------------------------------------
    async def health_check(self) -> bool:
        try:
            await self.fixture.init_spec()
        except (ClusterError, OSError):
            return False
        return True

    async def initialize(self) -> None:
        t0 = time.perf_counter()
        await self.fixture.template(self.height)
        self._metrics["template_build_s"] = round(time.perf_counter() - t0, 3)

    # -- helpers ----------------------------------------------------------------------------
    async def _sources(self, c: NodeCluster, n: int, height: int | None = None) -> list[int]:
        h = height or self.height
        await self.fixture.template(h)
        out = []
        for _ in range(n):
            dest = self.fixture.copy_template(h, c.workdir / f"source-{len(c.nodes)}")
            node = await c.add_node(self.fixture.follower_args(), datadir=dest)
            out.append(node.index)
        return out

    async def _follower(self, c: NodeCluster) -> int:
        return (await c.add_node(self.fixture.follower_args())).index

    def _cap_links(
        self, c: NodeCluster, srcs: list[int], dst: int, seconds: float, height: int = 0
    ) -> None:
        """Cap each source -> dst stream so one source alone needs about ``seconds``."""
        bw = max(MIN_LINK_BPS, self.bytes_per_block * (height or self.height) / seconds)
        c.proxy.apply([(s, dst) for s in srcs], "bandwidth", bandwidth_bps=bw)

    def _head(self, height: int | None = None) -> tuple[int, str]:
        return self.fixture.template_heads[height or self.height]

    async def _check_chain(
        self, out: Outcome, c: NodeCluster, node: int, ref: int, height: int | None = None
    ) -> None:
        h = height or self.height
        head = await c.nodes[node].call("chain_head")
        want = self._head(h)
        out.expect(
            (int(head["height"]), head["hash"]) == want,
            "synced head equals the source's head",
            f"{c.nodes[node].name} head {head} != {want}",
        )
        bad = await chain_mismatches(c.nodes[node], c.nodes[ref], sample_heights(h, SAMPLES))
        out.expect(not bad, "synced blocks equal the source's", f"{len(bad)} differ: {bad[:3]}")

    async def _sync_or_fail(
        self,
        out: Outcome,
        c: NodeCluster,
        node: int,
        prop: str,
        on_height: Any = None,
        height: int = 0,
        share: float = 1.0,
    ) -> SyncCurve | None:
        """``share``: fraction of sync.timeout_s this sync may use (tests running several)."""
        h = height or self.height
        try:
            return await follow_sync(c, node, h, self.timeout_s * share, on_height=on_height)
        except ClusterTimeout as exc:
            out.expect(False, prop, str(exc))
            return None

    # -- full sync and performance --------------------------------------------------------------
    @harness_test("full_sync")
    async def test_full_sync(self, out: Outcome) -> None:
        heights = [self.height] + [h for h in self.config.sync.extra_heights if h > self.height]
        for h in heights:
            async with attached_cluster(self.fixture, out, f"full-sync-{h}") as c:
                [src] = await self._sources(c, 1, h)
                f = await self._follower(c)
                await c.connect(f, src)
                try:
                    curve = await follow_sync(c, f, h, self.timeout_s)
                except ClusterTimeout as exc:
                    out.require(False, "full sync completes within sync.timeout_s", str(exc))
                    return
                await self._check_chain(out, c, f, src, h)
                span = await received_span(c.nodes[f], 1, h)
                sent = c.proxy.stats_for(src, f).bytes
                prefix = "" if h == self.height else f"h{h}_"
                out.record(
                    **{
                        f"{prefix}blocks": h,
                        f"{prefix}sync_s": round(curve.duration_s, 3),
                        f"{prefix}blocks_per_s": round(curve.blocks_per_s(), 1),
                        f"{prefix}import_span_s": span,
                        f"{prefix}bytes_per_block": round(sent / h, 1),
                    }
                )
                if h == self.height:
                    self.bytes_per_block = max(50.0, sent / h)
                    self._single = curve

    @harness_test("performance")
    async def test_sync_performance(self, out: Outcome) -> None:
        """Throughput and stalls of a one-source sync (the full-sync run, if it happened)."""
        curve = self._single
        if curve is None:
            async with attached_cluster(self.fixture, out, "performance") as c:
                [src] = await self._sources(c, 1)
                f = await self._follower(c)
                await c.connect(f, src)
                curve = await self._sync_or_fail(out, c, f, "sync completes within timeout")
                if curve is None:
                    return
                self.bytes_per_block = max(50.0, c.proxy.stats_for(src, f).bytes / self.height)
        rate = curve.blocks_per_s()
        budget = self.height / self.timeout_s
        out.record(
            blocks_per_s=round(rate, 1),
            sync_s=round(curve.duration_s, 3),
            longest_stall_s=round(curve.longest_stall_s(), 3),
            budget_rate_blocks=round(budget, 2),
            template_blocks_per_s=self._template_rate(),
        )
        out.expect(
            rate >= budget,
            "sync throughput meets the configured budget",
            f"{rate:.1f} blocks/s < {self.height} blocks / {self.timeout_s:g} s",
        )

    def _template_rate(self) -> float | None:
        built = self._metrics.get("template_build_s")
        return round(self.height / built, 1) if built else None

    # -- resilience ---------------------------------------------------------------------------
    @harness_test("resilience")
    async def test_source_killed_mid_sync(self, out: Outcome) -> None:
        async with attached_cluster(self.fixture, out, "source-killed") as c:
            srcs = await self._sources(c, 2)
            f = await self._follower(c)
            self._cap_links(c, srcs, f, seconds=2.5)
            killed: dict[str, Any] = {}

            async def on_height(h: int) -> None:
                if not killed and h > 0:
                    killed.update(at=h, t=time.monotonic())
                    await c.kill(srcs[0])

            for s in srcs:
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes from the other source after one is killed", on_height
            )
            out.require(bool(killed), "a source was killed during the sync", "sync never started")
            out.record(height_at_kill=killed["at"])
            out.require(
                killed["at"] < self.height, "the kill landed mid-sync", f"height {killed['at']}"
            )
            if curve is not None:
                out.record(sync_s=round(curve.duration_s, 3))
                await self._check_chain(out, c, f, srcs[1])

    @harness_test("resilience")
    async def test_cascading_disconnections(self, out: Outcome) -> None:
        async with attached_cluster(self.fixture, out, "cascading") as c:
            srcs = await self._sources(c, 3)
            f = await self._follower(c)
            self._cap_links(c, srcs, f, seconds=3.0)
            cuts: list[int] = []

            async def on_height(h: int) -> None:
                # first cut once blocks arrive; the second once the next source is serving
                if len(cuts) >= 2 or h >= self.height:
                    return
                victim = srcs[len(cuts)]
                if (h > 0 and not cuts) or (cuts and c.proxy.stats_for(victim, f).bytes > 0):
                    c.proxy.apply(
                        c.proxy.symmetric(f, victim), "disconnect", partitioned=True,
                        partition_mode="close",
                    )  # fmt: skip
                    cuts.append(h)

            for s in srcs:
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes after cascading disconnections", on_height
            )
            out.record(cut_heights=cuts)
            out.require(
                len(cuts) == 2 and cuts[-1] < self.height,
                "both disconnections landed mid-sync",
                f"cuts at heights {cuts}",
            )
            if curve is not None:
                out.record(sync_s=round(curve.duration_s, 3))
                await self._check_chain(out, c, f, srcs[2])

    # -- byzantine ----------------------------------------------------------------------------
    @harness_test("byzantine")
    async def test_byzantine_peer_rejected(self, out: Outcome) -> None:
        """A peer serving well-formed blocks signed by a non-authority is refused and banned."""
        async with attached_cluster(self.fixture, out, "byzantine") as c:
            honest, byz = await self._sources(c, 2)
            f = await self._follower(c)
            seed = self.ctx.seed
            c.proxy.apply([(byz, f)], "byzantine", rewriter=lambda: BlockForger(seed=seed))
            await c.connect(f, byz)  # the victim meets the liar first and alone

            async def judged() -> tuple[bool, Any]:
                st = await c.nodes[f].call("node_status")
                bans = await c.nodes[f].call("admin_bans")
                return bool(bans) or int(st["height"]) >= self.height, {
                    "height": st["height"],
                    "bans": bans,
                }

            try:
                await c.wait_until(judged, self.timeout_s, "victim bans the liar or imports")
            except ClusterTimeout as exc:
                out.expect(False, "byzantine peer banned", str(exc))
            await c.connect(f, honest)
            await self._sync_or_fail(out, c, f, "correct chain synced despite a byzantine peer")
            forged = sorted({h for r in c.proxy.rewriters for h in r.forged_heights})
            out.record(forged_blocks_served=len(forged))
            out.require(bool(forged), "the byzantine peer served forged blocks", "none served")
            picks = [forged[i - 1] for i in sample_heights(len(forged), SAMPLES)]
            bad = await chain_mismatches(c.nodes[f], c.nodes[honest], picks)
            out.expect(
                not bad, "forged blocks rejected", f"{len(bad)} forged blocks kept: {bad[:3]}"
            )
            bans = await c.nodes[f].call("admin_bans")
            out.record(bans=bans)
            out.expect(bool(bans), "byzantine peer banned", "victim's ban list is empty")
            await self._check_chain(out, c, f, honest)

    # -- partition tolerance ------------------------------------------------------------------
    @harness_test("partition_tolerance")
    async def test_sync_across_partition(self, out: Outcome) -> None:
        """Each side of a partition syncs from its own source; all converge after heal."""
        extra = max(5, self.height // 20)
        async with attached_cluster(self.fixture, out, "partition") as c:
            await self.fixture.template(self.height)
            dest = self.fixture.copy_template(self.height, c.workdir / "producer")
            await c.add_node(self.fixture.producer_args(), datadir=dest)  # 0: producer
            f1 = await self._follower(c)  # 1, producer side
            [s2] = await self._sources(c, 1)  # 2, other side
            f2 = await self._follower(c)  # 3
            await c.connect_full_mesh()
            await c.wait_until(
                lambda: self._all_peered(c, 3), self.timeout_s, "every node peered with 3"
            )
            cut = c.proxy.partition(Partition.between("halves", [0, f1], [s2, f2]))
            await produce(c.nodes[0], self.height + extra)
            top = self.height + extra
            try:
                await c.wait_heads_in_sync(self.timeout_s, [0, f1], min_height=top)
                await c.wait_heads_in_sync(self.timeout_s, [s2, f2], min_height=self.height)
            except ClusterTimeout as exc:
                out.expect(False, "sync continues inside each side of a partition", str(exc))
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
            except ClusterTimeout as exc:
                out.expect(False, "heads converge after heal", str(exc))
            out.record(partition=cut.params.get("groups"), extra_blocks=extra)

    async def _all_peered(self, c: NodeCluster, n: int) -> tuple[bool, Any]:
        peers = {i: len(await c.nodes[i].call("admin_peers")) for i in c.live_indices()}
        return all(v >= n for v in peers.values()), peers

    # -- checkpoints --------------------------------------------------------------------------
    @harness_test("checkpoints")
    async def test_checkpoint_consistency(self, out: Outcome) -> None:
        k = self.config.sync.checkpoint_interval
        async with attached_cluster(self.fixture, out, "checkpoints") as c:
            [src] = await self._sources(c, 1)
            f1, f2 = await self._follower(c), await self._follower(c)
            await c.connect(f1, src)
            await c.connect(f2, f1)  # second hand: checkpoints must not depend on the path
            try:
                await c.wait_heads_in_sync(self.timeout_s, min_height=self.height)
            except ClusterTimeout as exc:
                out.require(False, "followers synced", str(exc))
            cps = {i: await c.nodes[i].call("chain_getCheckpoints") for i in (src, f1, f2)}
            want = list(range(k, self.height + 1, k))
            heights = [cp["height"] for cp in cps[src]]
            out.record(checkpoints=len(heights), interval=k)
            out.expect(
                heights == want, "checkpoints every interval", f"{heights[:5]}... != {want[:5]}..."
            )
            same = all(cps[i] == cps[src] for i in (f1, f2))
            out.expect(same, "checkpoints identical across nodes", "followers' lists differ")
            picks = [want[i - 1] for i in sample_heights(len(want), 50)]
            blocks = await blocks_at(c.nodes[src], picks)
            byh = {cp["height"]: cp["hash"] for cp in cps[src]}
            wrong = [h for h in picks if (blocks[h] or {}).get("hash") != byh.get(h)]
            out.expect(not wrong, "checkpoint hashes match the blocks", f"heights {wrong[:5]}")

    @harness_test("checkpoints")
    async def test_checkpoint_interval_configurable(self, out: Outcome) -> None:
        k2 = max(2, self.config.sync.checkpoint_interval // 2)
        other = ChainFixture(
            self.target, self.fixture.root / f"interval-{k2}", self.ctx.events,
            checkpoint_interval=k2,
        )  # fmt: skip
        top = 3 * k2 + 1
        await other.template(top)
        async with attached_cluster(other, out, "interval") as c:
            node = await c.add_node(
                other.follower_args(), datadir=other.copy_template(top, c.workdir / "n")
            )
            heights = [cp["height"] for cp in await node.call("chain_getCheckpoints")]
        out.record(interval=k2, checkpoints=heights)
        out.expect(
            heights == [k2, 2 * k2, 3 * k2],
            "checkpoint interval follows the chain spec",
            f"{heights}",
        )

    @harness_test("checkpoints")
    async def test_recovery_after_sigkill(self, out: Outcome) -> None:
        """SIGKILL mid-sync: every block acknowledged over RPC survives; sync resumes, not restarts."""
        async with attached_cluster(self.fixture, out, "sigkill") as c:
            [src] = await self._sources(c, 1)
            f = await self._follower(c)
            self._cap_links(c, [src], f, seconds=2.5)
            state: dict[str, Any] = {}

            async def on_height(h: int) -> None:
                if not state and h >= self.height // 2:
                    state["acked"] = h
                    state["killed_at"] = time.time()
                    await c.kill(f)
                    raise _Killed

            await c.connect(f, src)
            try:
                await follow_sync(c, f, self.height, self.timeout_s, on_height=on_height)
            except _Killed:
                pass
            out.require("acked" in state, "killed mid-sync", f"state {state}")
            sent_before = c.proxy.stats_for(src, f).bytes
            await c.restart(f)
            h_restart = int((await c.nodes[f].call("chain_head"))["height"])
            out.record(acked_height=state["acked"], height_after_restart=h_restart)
            out.expect(
                h_restart >= state["acked"],
                "acknowledged blocks survive SIGKILL",
                f"acked {state['acked']}, {h_restart} after restart",
            )
            # blocks acknowledged before the kill must still carry their first receipt time
            old = sample_heights(state["acked"], 50)
            blocks = await blocks_at(c.nodes[f], old)
            killed_at = state["killed_at"]
            fresh = [
                h for h in old if float((blocks[h] or {}).get("received_at") or 1e18) >= killed_at
            ]
            out.expect(
                not fresh,
                "sync resumes without re-downloading stored blocks",
                f"re-fetched {fresh[:5]}",
            )
            if await self._sync_or_fail(out, c, f, "sync completes after restart") is not None:
                after = c.proxy.stats_for(src, f).bytes - sent_before
                out.record(bytes_before_kill=sent_before, bytes_after_restart=after)
                await self._check_chain(out, c, f, src)

    @harness_test("checkpoints")
    async def test_store_corruption_detected(self, out: Outcome) -> None:
        async with attached_cluster(self.fixture, out, "corrupt-store") as c:
            [src] = await self._sources(c, 1)
            await c.stop(src)
            where = _tamper_store(c.nodes[src].datadir, self.height // 2)
            out.record(tampered=where)
            try:
                await c.restart(src, kill=False)
            except ClusterError as exc:
                refused = str(exc)
                out.record(refusal=refused[-300:])
                # refused it is; a refusal must be a clear error, not a crash on bad data
                out.expect(
                    "Traceback" not in refused,
                    "tampered store refused at start with a clear error",
                    refused[-300:],
                )
                return
            blocks = await blocks_at(c.nodes[src], [self.height // 2])
            got = blocks[self.height // 2] or {}
            out.expect(
                False, "tampered store refused at start",
                f"node started and serves block {got.get('hash')} from an edited store",
            )  # fmt: skip

    # -- parallel sync ------------------------------------------------------------------------
    @harness_test("parallel_sync")
    async def test_parallel_speedup(self, out: Outcome) -> None:
        """n sources vs one on links capped below the follower's own import rate.

        Uncapped on loopback a sync is CPU-bound and more sources cannot help; real networks
        are slower than a node's import. So the harness measures the uncapped import rate
        first and caps each link at 1/(2n) of it: then one source is the bottleneck and a
        parallel sync should approach n x.
        """
        n = self.config.sync.parallel_sources
        # a chain of a few ranges fits in one peer's request window: parallelism needs length
        height = max(min(self.height, PARALLEL_MAX_BLOCKS), PARALLEL_BLOCKS_PER_SOURCE * n)
        async with attached_cluster(self.fixture, out, "parallel") as c:
            srcs = await self._sources(c, n, height)
            probe, one, many = [await self._follower(c) for _ in range(3)]
            rate = self._single.blocks_per_s() if self._single else 0.0
            if rate <= 0:
                await c.connect(probe, srcs[0])
                curve = await self._sync_or_fail(
                    out, c, probe, "probe sync", height=height, share=1 / 3
                )
                if curve is None:
                    return
                rate = curve.blocks_per_s()
            bw = max(MIN_LINK_BPS, self.bytes_per_block * rate / (2 * n))
            c.proxy.apply(
                [(s, d) for s in srcs for d in (one, many)], "bandwidth", bandwidth_bps=bw
            )
            await c.connect(one, srcs[0])
            t1 = await self._sync_or_fail(
                out, c, one, "one-source sync completes", height=height, share=1 / 3
            )
            # hold every handshake until all sources are dialed, so none is favoured by order
            gate = c.proxy.apply([(s, many) for s in srcs], "gate", partitioned=True)
            for s in srcs:
                await c.connect(many, s)
            c.proxy.clear(gate)
            tn = await self._sync_or_fail(
                out, c, many, f"{n}-source sync completes", height=height, share=1 / 3
            )
            if t1 is None or tn is None:
                return
            speedup = t1.duration_s / max(tn.duration_s, 1e-6)
            shares = [c.proxy.stats_for(s, many).bytes for s in srcs]
            total = sum(shares) or 1
            out.record(
                uncapped_blocks_per_s=round(rate, 1),
                link_cap_bps=round(bw),
                one_source_s=round(t1.duration_s, 3),
                n_sources_s=round(tn.duration_s, 3),
                sources=n,
                blocks=height,
                speedup=round(speedup, 2),
                source_byte_shares=[round(b / total, 3) for b in shares],
            )
            used = sum(b >= total / (4 * n) for b in shares)
            out.expect(
                used >= 2,
                "ranges fetched from several sources in parallel",
                f"byte shares {[round(b / total, 3) for b in shares]}",
            )
            out.expect(
                speedup >= 1.25,
                f"{n} sources sync faster than one on capped links",
                f"speedup {speedup:.2f} ({t1.duration_s:.2f} s vs {tn.duration_s:.2f} s)",
            )
            await self._check_chain(out, c, many, srcs[0], height)


class _Killed(Exception):
    """Stops follow_sync right after the harness SIGKILLed the node it was following."""


def _tamper_store(datadir: Path, height: int) -> str:
    """Edit one stored block header (SQLite store) or flip a byte mid-file (any other store)."""
    for db in sorted(datadir.rglob("*")):
        if db.is_file() and db.read_bytes()[:16] == b"SQLite format 3\x00":
            con = sqlite3.connect(db)
            try:
                row = con.execute(
                    "SELECT header FROM blocks WHERE height = ?", (height,)
                ).fetchone()
                if row is not None:
                    hdr = bytearray(row[0])
                    hdr[-5] ^= 0xFF  # inside tx_root: the header no longer hashes as stored
                    con.execute(
                        "UPDATE blocks SET header = ? WHERE height = ?", (bytes(hdr), height)
                    )
                    con.commit()
                    return f"{db.name}: header of block {height}"
            finally:
                con.close()
    files = sorted((p for p in datadir.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if not files:
        return "no store files"
    big = files[-1]
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0xFF
    big.write_bytes(bytes(data))
    return f"{big.name}: byte {len(data) // 2}"
