"""Sync group: reference-node processes on loopback, each figure beside its floor.

The floor of a sync is the verification it cannot avoid: the same N block signatures verified
with verify_batch in 64-block chunks, split over two processes (this machine's cores), measured
in the same run. A follower's full sync (connect to last block imported) is judged against it;
cost per block at 2N is judged against cost per block at N (linearity); 3 sources against 1
through bandwidth-capped links (the network-bound case, where parallel download must pay off).
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sqlite3
import tempfile
import threading
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
from ..sampler import Contender
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


async def run(ctx: BenchContext) -> list[CaseResult]:
    n = ctx.size(10_000, 1_000)
    samples = ctx.samples(full=3, quick=2)
    work = Path(tempfile.mkdtemp(prefix="alys-bench-sync-"))
    cl = _Cluster(work)
    pool = mp.get_context("spawn").Pool(2)
    try:
        src = cl.node(["--dev", "--authority-key", str(work / "spec/authority-0.key")], "source")
        ctx.progress(f"sync: source producing {n:,} blocks")
        head_n = src.rpc("dev_produceBlocks", n, timeout_s=900)
        items = _items(src.datadir, cl.spec.authorities, n)
        assert len(items) == n, f"source stored {len(items)} of {n} blocks"
        halves = [items[: n // 2], items[n // 2 :]]
        pool.map(_verify_chunks, [items[:64], items[64:128]])  # workers up and warm
        peaks: list[float] = []
        idle_rss: list[float] = []

        def sync_once(head: dict[str, Any]) -> None:
            f = cl.node()
            idle_rss.append(psutil.Process(f.proc.pid).memory_info().rss)
            with _RssPeak(f.proc.pid) as rss:
                f.rpc("admin_addPeer", src.addr)
                _wait_head(f, head)
            peaks.append(rss.peak)
            cl.drop(f)

        def floor(_: int) -> None:
            assert all(pool.map(_verify_chunks, halves)), "floor found an invalid signature"

        def follower(_: int) -> None:
            sync_once(head_n)

        rate = await ctx.case(
            GROUP,
            "block_processing_rate",
            f"full sync of {n:,} signed blocks from one source vs two-process verification",
            [Contender("sync", follower, loops=1), Contender("verify_2proc", floor, loops=1)],
            floor="verify_2proc",
            basis="wall",
            samples=samples,
            unit="s/run",
            target=Target("ratio", 1.1, "<= 1.1x the two-process verification floor"),
            extra={"blocks": n},
        )
        rate.extra["blocks_per_s"] = n / rate.measurements["sync"].wall.median
        memory = CaseResult(
            group=GROUP,
            name="sync_memory_usage",
            unit="bytes",
            description=f"peak RSS of a follower (and its verification workers) syncing {n:,} blocks",
            measurements={
                "sync": Measurement(summarize(peaks)),
                "idle_node": Measurement(summarize(idle_rss)),
            },
            ours="sync",
            floor="idle_node",
            basis="wall",
            ratio=summarize([p / i for p, i in zip(peaks, idle_rss, strict=False)]),
            extra={"blocks": n},
        )

        # linearity: the source grows to 2N; a fresh follower's time to reach N vs to reach 2N
        ctx.progress(f"sync: source producing {n:,} more blocks")
        head_2n = src.rpc("dev_produceBlocks", n, timeout_s=900)

        def follower_n(_: int) -> None:
            f = cl.node()
            f.rpc("admin_addPeer", src.addr)
            wait_until_blocking(lambda: f.height() >= n, 600, f"{f.name} at {n}", observe=f.height)
            cl.drop(f)

        def follower_2n(_: int) -> None:
            sync_once(head_2n)

        linear = await ctx.case(
            GROUP,
            "sync_linearity",
            f"per-block cost syncing {2 * n:,} blocks vs the first {n:,} of them",
            [
                Contender(f"sync_{2 * n}", follower_2n, loops=2 * n),
                Contender(f"sync_{n}", follower_n, loops=n),
            ],
            floor=f"sync_{n}",
            basis="wall",
            samples=samples,
            target=Target("ratio", 1.05, f"{2 * n:,} blocks <= 2.1x {n:,}"),
        )
        linear.ours = f"sync_{2 * n}"
        cases = [rate, memory, linear]
        cases.append(await _parallel(ctx, cl, src, head_2n, samples=samples))
        return cases
    finally:
        pool.terminate()
        pool.join()
        cl.close()
        shutil.rmtree(work, ignore_errors=True)


async def _parallel(
    ctx: BenchContext, cl: _Cluster, src: BlockingNode, head: dict[str, Any], samples: int
) -> CaseResult:
    """3 sources vs 1 through links capped so that one source needs about ``capped_s``."""
    capped_s = ctx.size(12, 4)
    others = [cl.node(name=f"source{i}") for i in (2, 3)]
    for o in others:
        o.rpc("admin_addPeer", src.addr)
    for o in others:
        _wait_head(o, head)
    sources = [src, *others]
    # wire bytes of one full sync, to size the cap
    probe = cl.node()
    probe.rpc("admin_addPeer", src.addr)
    _wait_head(probe, head)
    wire = probe.metrics().get("alys_p2p_bytes_in_total", 0.0)
    cl.drop(probe)
    bps = max(wire / capped_s, 10_000.0)
    shares: list[list[int]] = []

    def capped(k: int) -> Any:
        def op(_: int) -> None:
            f = cl.node(["--max-peers", str(k)])
            me = k
            proxy = FaultProxy(name=f"bench:{f.name}")

            async def links() -> list[str]:
                out = []
                for i, s in enumerate(sources[:k]):
                    await proxy.add_link(me, i, ("127.0.0.1", s.p2p_port))
                    out.append(proxy.address(me, i))
                proxy.apply([(i, me) for i in range(k)], "bandwidth", bandwidth_bps=bps)
                return out

            try:
                for addr in cl.loop.run(links()):
                    f.rpc("admin_addPeer", addr)
                _wait_head(f, head)
                served = [proxy.stats_for(i, me).bytes for i in range(k)]
                assert sum(served) >= 0.9 * wire, "data bypassed the capped links"
                if k > 1:
                    shares.append(served)
            finally:
                cl.drop(f)
                cl.loop.run(proxy.close())

        return op

    case = await ctx.case(
        GROUP,
        "parallel_block_processing",
        f"3 sources vs 1, links capped at {bps / 1e3:,.0f} kB/s each",
        [Contender("sources_3", capped(3), loops=1), Contender("sources_1", capped(1), loops=1)],
        floor="sources_1",
        basis="wall",
        samples=samples,
        unit="s/run",
        target=Target("ratio", 1 / 1.3, "3 sources >= 1.3x faster than 1"),
        extra={"cap_bps": bps},
    )
    balance = [min(s) / max(s) for s in shares if max(s) > 0]
    case.extra["peer_coordination_balance"] = balance  # smallest share / largest (gate 0.7)
    for o in others:
        cl.drop(o)
    return case
