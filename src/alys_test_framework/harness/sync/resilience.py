"""Resilience: sources lost mid-sync (SIGKILL, cascading disconnects); the follower completes
from who is left. Faults land at an *observed* height of the syncing node, so "mid-sync" is a
measured fact, and capped links stretch the sync to a few seconds so a fault can land in it."""

from __future__ import annotations

from typing import Any

from ...targets.cluster.fixture import attached_cluster
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase

MID_DELIVERY = 0.5  # kill a source before it delivered half of its share of the chain


class ResilienceTests(SyncHarnessBase):
    @harness_test("resilience")
    async def test_source_killed_mid_sync(self, out: Outcome) -> None:
        """A source is SIGKILLed while it is still delivering (measured on the wire: it has
        served bytes, and less than its share of the chain), so ranges it owed are lost with it
        and the follower must take them from the other source."""
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "source-killed") as c:
            srcs = await self._sources(c, 2, h)
            f = await self._follower(c)
            self._cap_links(c, srcs, f, seconds=2.5, height=h)
            assert c.proxy is not None
            proxy = c.proxy
            killed: dict[str, Any] = {}

            share = self.bytes_per_block * h / len(srcs)

            async def on_height(height: int) -> None:
                if killed:
                    return
                served = {s: proxy.stats_for(s, f).bytes for s in srcs}
                victim = max(srcs, key=lambda s: served[s])
                if 0 < served[victim] < MID_DELIVERY * share:
                    killed.update(at=height, victim=victim, served=served)
                    await c.kill(victim)

            for s in srcs:
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes from the other source after one is killed", h, on_height
            )
            out.require(bool(killed), "a source was killed during the sync", "sync never started")
            out.record(blocks=h, height_at_kill=killed["at"], bytes_served_at_kill=killed["served"])
            out.require(killed["at"] < h, "the kill landed mid-sync", f"height {killed['at']}")
            if curve is not None:
                out.record(sync_s=round(curve.duration_s, 3))
                survivor = next(s for s in srcs if s != killed["victim"])
                await self._check_chain(out, c, f, survivor, h)

    @harness_test("resilience")
    async def test_cascading_disconnections(self, out: Outcome) -> None:
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "cascading") as c:
            srcs = await self._sources(c, 3, h)
            f = await self._follower(c)
            self._cap_links(c, srcs, f, seconds=3.0, height=h)
            assert c.proxy is not None
            proxy = c.proxy
            cuts: list[int] = []

            async def on_height(height: int) -> None:
                # first cut once blocks arrive; the second once the next source is serving
                if len(cuts) >= 2 or height >= h:
                    return
                victim = srcs[len(cuts)]
                if (height > 0 and not cuts) or (cuts and proxy.stats_for(victim, f).bytes > 0):
                    proxy.apply(
                        proxy.symmetric(f, victim), "disconnect", partitioned=True,
                        partition_mode="close",
                    )  # fmt: skip
                    cuts.append(height)

            for s in srcs:
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes after cascading disconnections", h, on_height
            )
            out.record(blocks=h, cut_heights=cuts)
            out.require(
                len(cuts) == 2 and cuts[-1] < h,
                "both disconnections landed mid-sync",
                f"cuts at heights {cuts}",
            )
            if curve is not None:
                out.record(sync_s=round(curve.duration_s, 3))
                await self._check_chain(out, c, f, srcs[2], h)
