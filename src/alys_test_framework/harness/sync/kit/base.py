"""The base of every sync category module: fixture, sources, followers, chain checks.

Chain lengths, for time to verdict: the full-sync and performance tests sync the configured
``sync.max_chain_height`` (10,000 by default); the fault scenarios (resilience, Byzantine,
partition, checkpoints) run on ``sync.scenario_height`` (2,000), enough for many request ranges
per source while a fault lands mid-sync; the parallel test on 500 blocks per source; the six
concurrent sessions on SESSION_BLOCKS (500) each. Each
longer template extends the shorter one, so they are built once, in one pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ....targets.cluster import NodeCluster
from ....targets.cluster.fixture import ChainFixture, NodeTarget, default_cache_dir
from ....targets.cluster.measure import SyncCurve, chain_mismatches, follow_sync, sample_heights
from ....targets.cluster.recording import Recording
from ....waiting import WaitTimeout
from ...base import BaseHarness, HarnessContext, Outcome, TestResult
from ..groups import original_names

SAMPLES = 200  # blocks compared per chain check
# Floor of a capped link: a slower link makes a source miss a node's stall deadline with its
# request window in flight, which measures the stall policy, not what the test is about.
MIN_LINK_BPS = 40_000.0
PARALLEL_BLOCKS_PER_SOURCE = 500  # the parallel test's chain: several request ranges per source
SESSION_BLOCKS = 500  # the concurrent sessions' chain: 6 followers x 500 blocks at once


class SyncHarnessBase(BaseHarness):
    """State and helpers shared by the category mixins of ``SyncTestHarness``."""

    def __init__(self, ctx: HarnessContext, target: Any = None) -> None:
        super().__init__(ctx)
        cfg = ctx.config
        self.target = NodeTarget.parse(target, cfg.network.node_command, cfg.network.node_profile)
        self.height = cfg.sync.max_chain_height
        self.scenario_height = min(cfg.sync.scenario_height, self.height)
        self.parallel_height = PARALLEL_BLOCKS_PER_SOURCE * cfg.sync.parallel_sources
        self.session_height = min(SESSION_BLOCKS, self.height)
        self.timeout_s = cfg.sync.timeout_s
        self.stall_s = cfg.sync.stall_s
        self.fixture = ChainFixture(
            self.target,
            Path(ctx.workdir) / "sync",
            ctx.events,
            checkpoint_interval=cfg.sync.checkpoint_interval,
            seed=ctx.seed,
            cache_dir=default_cache_dir() if cfg.sync.template_cache else None,
            stall_s=self.stall_s,
            recording=Recording.for_workdir(
                ctx.workdir, self.name, cfg.network.convergence_timeout_s
            ),
        )
        self.bytes_per_block = 200.0  # replaced by the first measured sync
        self._single: SyncCurve | None = None

    async def run_one(self, name: str, category: str, timeout_s: float | None = None) -> TestResult:
        """Name the running test for its cluster's history file (``<harness>.<test>.jsonl``)."""
        if self.fixture.recording is not None:
            self.fixture.recording.test = name
        result = await super().run_one(name, category, timeout_s)
        if names := original_names(name):
            result.metrics["original_names"] = names
        return result

    def _needs(self, out: Outcome, *methods: str) -> None:
        """Report the test unsupported before any node starts when the profile lacks methods."""
        reason = self.target.profile.lacks(*methods)
        if reason:
            out.unsupported(reason)

    # -- nodes ------------------------------------------------------------------------------
    async def _sources(self, c: NodeCluster, n: int, height: int | None = None) -> list[int]:
        """``n`` nodes each holding a copy of the ``height`` template chain."""
        h = height or self.scenario_height
        await self.fixture.template(h)
        out = []
        for _ in range(n):
            dest = self.fixture.copy_template(h, c.root / f"source-{len(c.nodes)}")
            node = await c.add_node(self.fixture.follower_args(), datadir=dest)
            out.append(node.index)
        return out

    async def _follower(self, c: NodeCluster) -> int:
        return (await c.add_node(self.fixture.follower_args())).index

    def _cap_links(
        self, c: NodeCluster, srcs: list[int], dst: int, seconds: float, height: int
    ) -> float:
        """Cap each source -> dst stream so one source alone needs about ``seconds``."""
        bw = max(MIN_LINK_BPS, self.bytes_per_block * height / seconds)
        assert c.proxy is not None
        c.proxy.apply([(s, dst) for s in srcs], "bandwidth", bandwidth_bps=bw)
        return bw

    def _head(self, height: int) -> tuple[int, str]:
        return self.fixture.template_heads[height]

    # -- checks -----------------------------------------------------------------------------
    async def _check_chain(
        self, out: Outcome, c: NodeCluster, node: int, ref: int, height: int
    ) -> None:
        head = await c.nodes[node].call("chain_head")
        want = self._head(height)
        out.expect(
            (int(head["height"]), head["hash"]) == want,
            "synced head equals the source's head",
            f"{c.nodes[node].name} head {head.get('height')} {head.get('hash')} != {want}",
        )
        bad = await chain_mismatches(c.nodes[node], c.nodes[ref], sample_heights(height, SAMPLES))
        out.expect(not bad, "synced blocks equal the source's", f"{len(bad)} differ: {bad[:3]}")

    async def _sync_or_fail(
        self,
        out: Outcome,
        c: NodeCluster,
        node: int,
        prop: str,
        height: int,
        on_height: Callable[[int], Awaitable[None]] | None = None,
        share: float = 1.0,
    ) -> SyncCurve | None:
        """Follow a sync; a stall or timeout is the violated ``prop`` (with the stall message).

        ``share``: fraction of sync.timeout_s this sync may use (tests running several).
        """
        try:
            return await follow_sync(c, node, height, self.timeout_s * share, on_height=on_height)
        except WaitTimeout as exc:
            out.fail(prop, str(exc))
            return None
