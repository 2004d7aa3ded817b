"""The base of every network category module: fixture, cluster start, peer counts, latencies.

All links between cluster nodes except the discovery test's bootnode links pass through the
FaultProxy, so partitions and corrupted or slow links are real TCP behaviour. Propagation is
measured with the ``received_at`` stamp each node puts on a block, on one machine clock.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ....targets.cluster import NodeCluster, RpcError, RpcUnavailable
from ....targets.cluster.fixture import (
    ChainFixture,
    NodeTarget,
    default_cache_dir,
    produce_blocks,
)
from ....targets.cluster.measure import blocks_at
from ....targets.cluster.recording import Recording
from ....waiting import wait_until
from ...base import BaseHarness, HarnessContext, Outcome, TestResult

GOSSIP_BLOCKS = 5  # blocks whose propagation is timed


class NetworkHarnessBase(BaseHarness):
    """State and helpers shared by the category mixins of ``NetworkTestHarness``."""

    def __init__(self, ctx: HarnessContext, target: Any = None) -> None:
        super().__init__(ctx)
        self.net = ctx.config.network
        self.target = NodeTarget.parse(target, self.net.node_command, self.net.node_profile)
        self.fixture = ChainFixture(
            self.target,
            Path(ctx.workdir) / "network",
            ctx.events,
            authorities=2,  # two producers can fork a partitioned network
            checkpoint_interval=ctx.config.sync.checkpoint_interval,
            seed=ctx.seed,
            cache_dir=default_cache_dir() if ctx.config.sync.template_cache else None,
            stall_s=ctx.config.sync.stall_s,
            recording=Recording.for_workdir(
                ctx.workdir, self.name, ctx.config.network.convergence_timeout_s
            ),
        )
        self.timeout_s = self.net.convergence_timeout_s

    async def run_one(self, name: str, category: str, timeout_s: float | None = None) -> TestResult:
        """Name the running test for its cluster's history file (``<harness>.<test>.jsonl``)."""
        if self.fixture.recording is not None:
            self.fixture.recording.test = name
        return await super().run_one(name, category, timeout_s)

    def _needs(self, out: Outcome, *methods: str, flags: tuple[str, ...] = ()) -> None:
        """Report the test unsupported before any node starts when the profile lacks what it
        needs (the message names each missing method or flag)."""
        reason = self.target.profile.lacks(*methods, flags=flags)
        if reason:
            out.unsupported(reason)

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

    async def _wait_peered(self, c: NodeCluster, want: dict[int, int]) -> float:
        """Wait until each listed node has at least its number of peers; returns seconds."""
        counts: dict[int, Any] = {}

        async def ok() -> bool:
            counts.update(await self._peer_counts(c, list(want)))
            return all(isinstance(counts[i], int) and counts[i] >= w for i, w in want.items())

        t0 = time.monotonic()
        await wait_until(ok, self.timeout_s, f"peer counts at least {want}", observe=lambda: counts)
        return time.monotonic() - t0

    async def _produce_one(self, c: NodeCluster) -> tuple[int, str]:
        head = await produce_blocks(c.nodes[0], 1, c.recorder)
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
