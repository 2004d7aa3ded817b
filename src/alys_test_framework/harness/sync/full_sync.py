"""Full sync: a fresh node syncs the whole configured chain (and any extra heights) from one
source, and ends with the source's head and blocks."""

from __future__ import annotations

from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import follow_sync, received_span
from ...waiting import WaitTimeout
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase


class FullSyncTests(SyncHarnessBase):
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
                except WaitTimeout as exc:
                    out.require(False, "full sync completes without stalling", str(exc))
                    return
                await self._check_chain(out, c, f, src, h)
                span = await received_span(c.nodes[f], 1, h)
                assert c.proxy is not None
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
