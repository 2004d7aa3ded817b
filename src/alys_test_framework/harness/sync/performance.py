"""Sync performance: throughput and stalls of a one-source sync, against the configured budget
(``sync.max_chain_height`` blocks within ``sync.timeout_s``)."""

from __future__ import annotations

from ...targets.cluster.fixture import attached_cluster
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase


class PerformanceTests(SyncHarnessBase):
    @harness_test("performance")
    async def test_sync_performance(self, out: Outcome) -> None:
        """Throughput and stalls of a one-source sync (the full-sync run, if it happened)."""
        curve = self._single
        if curve is None:
            async with attached_cluster(self.fixture, out, "performance") as c:
                [src] = await self._sources(c, 1, self.height)
                f = await self._follower(c)
                await c.connect(f, src)
                curve = await self._sync_or_fail(
                    out, c, f, "sync completes without stalling", self.height
                )
                if curve is None:
                    return
                assert c.proxy is not None
                self.bytes_per_block = max(50.0, c.proxy.stats_for(src, f).bytes / self.height)
        rate = curve.blocks_per_s()
        budget = self.height / self.timeout_s
        out.record(
            blocks_per_s=round(rate, 1),
            sync_s=round(curve.duration_s, 3),
            longest_stall_s=round(curve.longest_stall_s(), 3),
            budget_rate_blocks=round(budget, 2),
            template_blocks_per_s=self._metrics.get("template_blocks_per_s"),
        )
        out.expect(
            rate >= budget,
            "sync throughput meets the configured budget",
            f"{rate:.1f} blocks/s < {self.height} blocks / {self.timeout_s:g} s",
        )
