"""Corruption: a link whose bytes are corrupted gets its sender banned by the receiver, which
survives; honest links and the rest of the cluster are unaffected."""

from __future__ import annotations

import time
from typing import Any

from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.observe import ended_by, observed_ban
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase


class CorruptionTests(NetworkHarnessBase):
    @harness_test("corruption")
    async def test_corrupted_messages(self, out: Outcome) -> None:
        """Node 1's bytes to node 2 are corrupted: node 2 bans it, survives, others unaffected."""
        self._needs(out, "admin_peers", "new_blocks")
        by_rpc = self.target.profile.serves("admin_bans")  # else: a ban observed at the proxy
        async with attached_cluster(self.fixture, out, "corruption") as c:
            await self._start(c, 3)
            await c.connect_pairs([(1, 0), (2, 0), (2, 1)])
            await self._wait_peered(c, {0: 2, 1: 2, 2: 2})
            assert c.proxy is not None
            since = time.monotonic()
            rec = c.proxy.apply([(1, 2)], "corrupt", corrupt=1.0)
            produced = 0
            bans: list[Any] = []

            async def banned() -> bool:
                nonlocal produced
                await self._produce_one(c)  # traffic for the corruption to hit
                produced += 1
                bans[:] = await c.nodes[2].call("admin_bans")
                return bool(bans)

            t0 = time.monotonic()
            if not by_rpc:
                ban = await observed_ban(c, 2, 1, timeout_s=self.timeout_s, clear=rec, since=since)
                out.record(ban_s=round(time.monotonic() - t0, 3), ban=ban.to_json())
                if ban.banned is None:
                    out.unsupported(
                        f"whether node-2 banned node-1 is not observable: {ban.evidence}"
                    )
                out.expect(bool(ban.banned), "corrupting sender banned", ban.evidence)
            try:
                if by_rpc:
                    await wait_until(
                        banned, self.timeout_s, "node-2 bans node-1", observe=lambda: bans
                    )
                    out.record(ban_s=round(time.monotonic() - t0, 3), bans=list(bans))
            except WaitTimeout as exc:
                out.fail("corrupting sender banned", str(exc))
            c.proxy.clear(rec)
            out.record(corrupted_chunks=c.proxy.stats_for(1, 2).corrupted, blocks=produced)
            out.expect(c.nodes[2].running, "no crash on corrupted input", "node-2 exited")
            h, _ = await self._produce_one(c)
            try:
                await c.wait_heads_in_sync(self.timeout_s, min_height=h)
            except WaitTimeout as exc:
                out.fail("other nodes unaffected", str(exc))
            bans0 = await c.nodes[0].call("admin_bans") if by_rpc else ended_by(c, 0, since)
            out.expect(not bans0, "honest links unaffected", f"node-0 banned/dropped {bans0}")
