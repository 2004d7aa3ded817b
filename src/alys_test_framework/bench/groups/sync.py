"""Sync group: reference-node processes on loopback, each figure beside its floor.

The floor of a sync is the verification it cannot avoid: the same N block signatures verified
with verify_batch in 64-block chunks, split over two processes (this machine's cores), measured
in the same run. A follower's full sync (connect to last block imported) is judged against it;
cost per block at 2N is judged against cost per block at N (linearity); 3 sources against 1
through bandwidth-capped links (the network-bound case, where parallel download must pay off).

Sources dial their followers, never the reverse: every node here is on 127.0.0.1, and a
source bans an offending IP's new inbound connections (alys_node.p2p.admission), so one
stray dial from another cluster on this machine would otherwise lock every later follower out
for the ban time. A node's own dials are judged by address and node id only.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import psutil

from alys_node.chain.block import Header
from alys_node.chain.spec import ChainSpec, init_spec
from alys_node.crypto import bls

from ...targets.cluster import FaultProxy
from ...targets.cluster.blocking import BlockingNode, LoopThread
from ...waiting import wait_until_blocking
from ..context import BenchContext
from ..model import CaseResult, Measurement, Target
from ..sampler import measurements, paired_ratio
from ..stats import summarize

GROUP = "sync"
Item = tuple[bytes, bytes, bytes]


def _verify_chunks(items: list[Item]) -> bool:
    bls.clear_pubkey_cache()
    return all(bls.verify_batch(items[i : i + 64]) for i in range(0, len(items), 64))


class _Cluster:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.loop = LoopThread()
        self.nodes: list[BlockingNode] = []
        init_spec(work / "spec", 1, chain_id="bench", slot_ms=1000, checkpoint_interval=100,
                  seed=b"bench".ljust(32, b"\0"))  # fmt: skip
        self.spec_file = str(work / "spec" / "chain-spec.json")
        self.spec = ChainSpec.load(self.spec_file)
        self.base = ["--chain-spec", self.spec_file]
        self.count = 0

    def node(self, args: list[str] | None = None, name: str | None = None) -> BlockingNode:
        self.count += 1
        name = name or f"n{self.count}"
        n = BlockingNode(self.loop, name, self.work / name, self.base + (args or []),
                         self.work / f"{name}.log")  # fmt: skip
        self.nodes.append(n)
        return n.start()

    def drop(self, n: BlockingNode) -> None:
        n.terminate(timeout_s=15)
        shutil.rmtree(n.datadir, ignore_errors=True)

    def close(self) -> None:
        for n in self.nodes:
            if n.poll() is None:
                n.terminate(timeout_s=15)
        self.loop.close()


def _head(node: BlockingNode) -> dict[str, Any]:
    return node.rpc("chain_head")


def _wait_head(node: BlockingNode, head: dict[str, Any], timeout_s: float = 600) -> None:
    wait_until_blocking(lambda: _head(node) == head, timeout_s,
                        f"{node.name} at height {head['height']}", observe=lambda: _head(node))  # fmt: skip


def _wait_height(node: BlockingNode, height: int, timeout_s: float = 600) -> None:
    wait_until_blocking(lambda: node.height() >= height, timeout_s,
                        f"{node.name} at height {height}", observe=node.height)  # fmt: skip


def _items(datadir: Path, pks: tuple[bytes, ...] | list[bytes], upto: int) -> list[Item]:
    db = sqlite3.connect(f"file:{datadir / 'chain.sqlite'}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT header, sig FROM blocks WHERE height > 0 AND height <= ? ORDER BY height", (upto,)
    ).fetchall()
    db.close()
    out = []
    for header, sig in rows:
        h = Header.decode(header)
        out.append((pks[h.producer], h.hash(), sig))
    return out


class _RssPeak:
    """Peak RSS of a process (and its children) sampled every 20 ms while a sync runs."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                rss = self.proc.memory_info().rss
                rss += sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)

    def __enter__(self) -> _RssPeak:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def _cpu_s(pid: int) -> float:
    """CPU seconds of a process and its live children (the node's verification workers)."""
    p = psutil.Process(pid)
    procs = [p, *p.children(recursive=True)]
    return sum(sum(q.cpu_times()[:2]) for q in procs)


async def run(ctx: BenchContext) -> list[CaseResult]:
    n = ctx.size(10_000, 1_000)
    samples = ctx.samples(full=3, quick=3)
    work = Path(tempfile.mkdtemp(prefix="alys-bench-sync-"))
    cl = _Cluster(work)
    pool = mp.get_context("spawn").Pool(2)
    try:
        src = cl.node(["--dev", "--authority-key", str(work / "spec/authority-0.key")], "source")
        ctx.progress(f"sync: source producing {2 * n:,} blocks")
        head = src.rpc("dev_produceBlocks", 2 * n, timeout_s=900)
        items = _items(src.datadir, cl.spec.authorities, n)
        assert len(items) == n, f"source stored {len(items)} of {n} blocks"
        halves = [items[: n // 2], items[n // 2 :]]
        pool.map(_verify_chunks, [items[:64], items[64:128]])  # workers up and warm
        t0 = time.perf_counter()
        rounds: list[dict[str, float]] = []
        peaks: list[float] = []
        idle_rss: list[float] = []
        wire = 0.0
        # One follower per round syncs all 2N blocks; the time it reaches N and the time it
        # reaches 2N are the two sides of the linearity pair, and the first is the sync judged
        # against the verification floor of the same N blocks (timed right after, same round).
        # Timing runs from the dial to the block: process start and stop are no part of a sync.
        for i in range(samples):
            ctx.progress(f"sync.block_processing_rate: sample {i + 1}/{samples}")
            f = cl.node()
            idle_rss.append(psutil.Process(f.proc.pid).memory_info().rss)
            c0 = _cpu_s(f.proc.pid)
            with _RssPeak(f.proc.pid) as rss:
                w0 = time.perf_counter()
                src.rpc("admin_addPeer", f.addr)
                _wait_height(f, n)
                t_n, c_n = time.perf_counter() - w0, _cpu_s(f.proc.pid) - c0
                _wait_head(f, head)
                t_2n, c_2n = time.perf_counter() - w0, _cpu_s(f.proc.pid) - c0
            peaks.append(rss.peak)
            wire = f.metrics().get("alys_p2p_bytes_in_total", 0.0)
            cl.drop(f)
            w0 = time.perf_counter()
            assert all(pool.map(_verify_chunks, halves)), "floor found an invalid signature"
            t_f = time.perf_counter() - w0
            rounds.append({"sync.wall": t_n, "sync.cpu": c_n, "verify_2proc.wall": t_f,
                           f"sync_{2 * n}.wall": t_2n / (2 * n), f"sync_{2 * n}.cpu": c_2n / (2 * n),
                           f"sync_{n}.wall": t_n / n, f"sync_{n}.cpu": c_n / n})  # fmt: skip
        elapsed = time.perf_counter() - t0
        rate = CaseResult(
            group=GROUP,
            name="block_processing_rate",
            unit="s/run",
            description=f"sync of {n:,} signed blocks from one source (dial to block {n:,}) vs "
            "two-process verification of the same blocks",
            measurements=measurements(rounds, ["sync", "verify_2proc"], "sync.rate"),
            ours="sync",
            floor="verify_2proc",
            basis="wall",
            ratio=paired_ratio(rounds, "sync", "verify_2proc", "wall"),
            target=Target("ratio", 1.1, "<= 1.1x the two-process verification floor"),
            extra={
                "blocks": n,
                "elapsed_s": elapsed,
                "cpu_note": "sync cpu: the follower process and its workers",
            },  # fmt: skip
        )
        rate.extra["blocks_per_s"] = n / rate.measurements["sync"].wall.median
        memory = CaseResult(
            group=GROUP,
            name="sync_memory_usage",
            unit="bytes",
            description=f"peak RSS of a follower (and its verification workers) syncing "
            f"{2 * n:,} blocks",
            measurements={
                "sync": Measurement(summarize(peaks)),
                "idle_node": Measurement(summarize(idle_rss)),
            },
            ours="sync",
            floor="idle_node",
            basis="wall",
            ratio=summarize([p / i for p, i in zip(peaks, idle_rss, strict=False)]),
            extra={"blocks": 2 * n},
        )
        big, small = f"sync_{2 * n}", f"sync_{n}"
        linear = CaseResult(
            group=GROUP,
            name="sync_linearity",
            unit="s/op",
            description=f"per-block cost reaching block {2 * n:,} vs reaching {n:,}, same sync",
            measurements=measurements(rounds, [big, small], "sync.linearity"),
            ours=big,
            floor=small,
            basis="wall",
            ratio=paired_ratio(rounds, big, small, "wall"),
            target=Target("ratio", 1.05, f"{2 * n:,} blocks <= 2.1x {n:,}"),
        )
        cases = [rate, memory, linear]
        cases.append(await _parallel(ctx, cl, src, n, wire / 2, samples=samples))
        return cases
    finally:
        pool.terminate()
        pool.join()
        cl.close()
        shutil.rmtree(work, ignore_errors=True)


async def _parallel(
    ctx: BenchContext,
    cl: _Cluster,
    src: BlockingNode,
    upto: int,
    wire: float,
    samples: int,
) -> CaseResult:
    """3 sources vs 1 through links capped so that one source needs about ``capped_s`` to
    deliver the first ``upto`` blocks (``wire`` bytes: half of what a 2N sync received)."""
    capped_s = ctx.size(12, 4)
    # the other two sources start on a copy of the source's block store: a full sync each
    # would cost more than the case itself, and how a source got its chain is not measured
    for i in (2, 3):
        (cl.work / f"source{i}").mkdir()
        with (
            closing(
                sqlite3.connect(f"file:{src.datadir / 'chain.sqlite'}?mode=ro", uri=True)
            ) as db,
            closing(sqlite3.connect(cl.work / f"source{i}" / "chain.sqlite")) as copy,
        ):
            db.backup(copy)
    others = [cl.node(name=f"source{i}") for i in (2, 3)]
    for o in others:
        _wait_head(o, _head(src))
    sources = [src, *others]
    bps = max(wire / capped_s, 10_000.0)
    shares: list[list[int]] = []

    def capped(k: int) -> float:
        """Seconds from the dials to the head for a follower fed by ``k`` capped sources."""
        f = cl.node(["--max-peers", str(k)])
        me = k
        proxy = FaultProxy(name=f"bench:{f.name}")

        async def links() -> list[str]:
            out = []
            for i in range(k):  # source i dials the follower through link (i -> me)
                await proxy.add_link(i, me, ("127.0.0.1", f.p2p_port))
                out.append(proxy.address(i, me))
            proxy.apply([(i, me) for i in range(k)], "bandwidth", bandwidth_bps=bps)
            return out

        try:
            addrs = cl.loop.run(links())
            w0 = time.perf_counter()
            for s, addr in zip(sources, addrs, strict=False):
                s.rpc("admin_addPeer", addr)
            _wait_height(f, upto)
            took = time.perf_counter() - w0
            served = [proxy.stats_for(i, me).bytes for i in range(k)]
            assert sum(served) >= 0.8 * wire, "data bypassed the capped links"
            if k > 1:
                shares.append(served)
            return took
        finally:
            cl.drop(f)
            cl.loop.run(proxy.close())

    t0 = time.perf_counter()
    rounds = []
    for i in range(samples):
        ctx.progress(f"sync.parallel_block_processing: sample {i + 1}/{samples}")
        rounds.append({"sources_3.wall": capped(3), "sources_1.wall": capped(1)})
    case = CaseResult(
        group=GROUP,
        name="parallel_block_processing",
        unit="s/run",
        description=f"3 sources vs 1, links capped at {bps / 1e3:,.0f} kB/s each (dial to "
        f"block {upto:,})",
        measurements=measurements(rounds, ["sources_3", "sources_1"], "sync.parallel"),
        ours="sources_3",
        floor="sources_1",
        basis="wall",
        ratio=paired_ratio(rounds, "sources_3", "sources_1", "wall"),
        target=Target("ratio", 1 / 1.3, "3 sources >= 1.3x faster than 1"),
        extra={"cap_bps": bps, "elapsed_s": time.perf_counter() - t0},
    )
    balance = [min(s) / max(s) for s in shares if max(s) > 0]
    case.extra["peer_coordination_balance"] = balance  # smallest share / largest (gate 0.7)
    for o in others:
        cl.drop(o)
    return case
