"""Peer disconnection resilience: a source's connection is cut mid-sync again and again (at 1/5,
2/5 and 3/5 of the chain delivered, each time while the log shows that source owing ranges) and
comes back; the follower must recover from each.

Rules: a disconnection is *recovered* when, after the link is back, the follower asks that
source for ranges again (it reconnected and trusts it: a disconnection is not misbehaviour)
and its own height kept rising meanwhile (stall detection fails the test otherwise). The
recovery rate (recovered / disconnections) must reach ``sync.min_recovery_rate`` (80 %, the
original's resilience gate), and the sync must end with the source's chain.
"""

from __future__ import annotations

import time
from typing import Any

from ...targets.cluster.fault_proxy import FaultRecord
from ...targets.cluster.fixture import attached_cluster
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.wire import RangeLog, RangeRequest

DISCONNECTIONS = 3
ONE_SOURCE_S = 6.0


class DisconnectionTests(SyncHarnessBase):
    @harness_test("resilience")
    async def test_peer_disconnection_resilience(self, out: Outcome) -> None:
        h = self.scenario_height
        log = RangeLog()
        async with attached_cluster(self.fixture, out, "disconnections") as c:
            srcs = await self._sources(c, 2, h)
            f = await self._follower(c)
            assert c.proxy is not None
            proxy = c.proxy
            self._cap_links(c, srcs, f, seconds=ONE_SOURCE_S, height=h)
            for s in srcs:
                proxy.apply([(f, s)], "range-log", rewriter=log.asks(f, s))
                proxy.apply([(s, f)], "range-log", rewriter=log.answers(f, s))
            events: list[dict[str, Any]] = []
            open_cut: list[FaultRecord] = []

            def on_reply(r: RangeRequest) -> None:  # in the proxy: cuts land on the wire
                delivered = len(log.heights_delivered(f))
                if open_cut:  # heal once another source delivered without the cut one
                    if r.peer != events[-1]["source"]:
                        proxy.clear(open_cut.pop())
                        events[-1]["healed_at"] = time.time()
                    return
                k = len(events)
                if k >= DISCONNECTIONS or delivered < h * (k + 1) // (DISCONNECTIONS + 2):
                    return
                victim = next((s for s in srcs if s != r.peer and log.owed_by(f, s)), None)
                if victim is not None:
                    open_cut.append(proxy.apply(proxy.symmetric(f, victim), "disconnect",
                                                partitioned=True, partition_mode="close"))  # fmt: skip
                    log.peer_failed(f, victim)
                    events.append({"delivered": delivered, "source": victim})

            async def on_height(height: int) -> None:  # the peer comes back: dial it again
                for e in events:
                    if "healed_at" in e and "redialed" not in e:
                        e["redialed"] = height
                        await c.connect(f, e["source"])

            log.on_reply = on_reply
            for s in srcs:
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes through repeated disconnections", h, on_height
            )
            for e in events:
                healed = e.get("healed_at")
                e["recovered"] = healed is not None and any(
                    r.peer == e["source"] and r.at > healed for r in log.of(f)
                )
            n_rec = sum(e["recovered"] for e in events)
            rate = n_rec / max(len(events), 1)
            gate = self.config.sync.min_recovery_rate
            out.record(
                blocks=h, disconnections=len(events), recovered=n_rec, recovery_rate=round(rate, 3),
                recovery_gate=gate,
                blocks_delivered_at_disconnections=[e["delivered"] for e in events],
            )  # fmt: skip
            out.require(
                len(events) == DISCONNECTIONS,
                f"{DISCONNECTIONS} disconnections landed mid-request",
                f"only {len(events)}: {events}",
            )
            out.expect(
                rate >= gate,
                f"the follower recovers from >= {gate:.0%} of disconnections",
                f"{n_rec}/{len(events)} recovered: {events}",
            )
            if curve is not None:
                out.record(sync_s=round(curve.duration_s, 3))
                await self._check_chain(out, c, f, srcs[0], h)
