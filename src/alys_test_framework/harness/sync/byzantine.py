"""Byzantine peers: a peer serving well-formed blocks signed by a non-authority (rewritten in
the proxy, so the protocol itself is perfect) must be refused and banned, and honest sync must
still complete."""

from __future__ import annotations

from typing import Any

from ...targets.cluster.byzantine import BlockForger
from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import chain_mismatches, sample_heights
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.base import SAMPLES


class ByzantineTests(SyncHarnessBase):
    @harness_test("byzantine")
    async def test_byzantine_peer_rejected(self, out: Outcome) -> None:
        """A peer serving well-formed blocks signed by a non-authority is refused and banned."""
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "byzantine") as c:
            honest, byz = await self._sources(c, 2, h)
            f = await self._follower(c)
            seed = self.ctx.seed
            assert c.proxy is not None
            c.proxy.apply([(byz, f)], "byzantine", rewriter=lambda: BlockForger(seed=seed))
            await c.connect(f, byz)  # the victim meets the liar first and alone
            bans_seen = c.nodes[f].profile.supports("admin_bans")
            seen: dict[str, Any] = {}

            async def judged() -> bool:
                seen["height"] = await c.nodes[f].height()
                seen["bans"] = await c.nodes[f].call("admin_bans")
                return bool(seen["bans"]) or seen["height"] >= h

            if bans_seen:
                try:
                    await wait_until(
                        judged, self.timeout_s, "victim bans the liar or imports",
                        observe=lambda: seen,
                    )  # fmt: skip
                except WaitTimeout as exc:
                    out.fail("byzantine peer banned", str(exc))
            await c.connect(f, honest)
            await self._sync_or_fail(out, c, f, "correct chain synced despite a byzantine peer", h)
            forged = sorted({b for r in c.proxy.rewriters for b in r.forged_heights})
            out.record(blocks=h, forged_blocks_served=len(forged))
            out.require(bool(forged), "the byzantine peer served forged blocks", "none served")
            picks = [forged[i - 1] for i in sample_heights(len(forged), SAMPLES)]
            bad = await chain_mismatches(c.nodes[f], c.nodes[honest], picks)
            out.expect(
                not bad, "forged blocks rejected", f"{len(bad)} forged blocks kept: {bad[:3]}"
            )
            await self._check_chain(out, c, f, honest, h)
            if not bans_seen:  # what could be measured was; the ban itself cannot be seen
                out.unsupported(
                    f"node profile {c.nodes[f].profile.name!r} offers no admin_bans: forged "
                    "blocks were rejected, whether the liar was banned is not observable"
                )
            bans = await c.nodes[f].call("admin_bans")
            out.record(bans=bans)
            out.expect(bool(bans), "byzantine peer banned", "victim's ban list is empty")
