"""Disconnections and races on one follower: peer_disconnection_resilience and
race_condition_handling read one cluster (see parallel_sessions.SharedRun: run once, judged
once by the checkers, each test with its own figures).

The scenario: a follower range-syncs from two sources over capped links, every request and
reply logged on the wire (kit/wire.py). A source's connection is cut at 1/5, 2/5 and 3/5 of
the chain delivered, each time while the log shows that source owing ranges (a disconnection
mid-request), and comes back once the other source delivered a reply without it (the harness
dials it again). Meanwhile a gossip peer sends the follower, by NewBlock, the block just above
its head whenever range sync has already asked for that height (gossip and range sync racing
for the same heights), up to RACES times.

peer_disconnection_resilience: a disconnection is *recovered* when, after the link is back, the
follower asks that source for ranges again (a disconnection is not misbehaviour) while its own
height kept rising (stall detection fails the test otherwise). The recovery rate (recovered /
disconnections) must reach ``sync.min_recovery_rate`` (80 %, the original's resilience gate),
and the sync must end with the source's chain.

race_condition_handling: every height is imported exactly once (the node's import counter
equals its head: no duplicate import) and the chain has no gap (head and sampled blocks equal
the source's, the chain checker over every recorded block); ``imported_by_gossip_first``
counts the races gossip won (the gossiped block committed alone: its receipt time differs from
both neighbours', which a range commits together).
"""

from __future__ import annotations

import time
from typing import Any

from ...oracles.chain import OBlock, OracleSpec
from ...targets.cluster import RpcUnavailable
from ...targets.cluster.byzantine_catalogue import ByzantinePeer, new_block_payload
from ...targets.cluster.fault_proxy import FaultRecord
from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import blocks_at
from ...targets.cluster.profiles import REFERENCE_BLOCK_JSON
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.wire import RangeLog, RangeRequest
from .parallel_sessions import SharedRun

DISCONNECTIONS = 3
ONE_SOURCE_S = 6.0  # links capped so one source alone needs ~6 s
RACES = 12  # gossiped blocks racing a range request
IMPORTED_METRIC = "alys_blocks_imported_total"


class DisconnectionTests(SyncHarnessBase):
    _flaky: SharedRun | None = None

    async def _flaky_run(self) -> SharedRun:
        if self._flaky is None:
            self._flaky = SharedRun(Outcome())
            await self._flaky.play(self._run_flaky)
        return self._flaky

    async def _run_flaky(self, run: SharedRun) -> None:
        h = self.scenario_height
        out, log = run.out, RangeLog()
        events: list[dict[str, Any]] = []
        races: list[int] = []
        run.data.update(height=h, events=events, races=races)
        async with attached_cluster(self.fixture, out, "disconnections") as c:
            srcs = await self._sources(c, 2, h)
            f = await self._follower(c)
            assert c.proxy is not None
            proxy = c.proxy
            self._cap_links(c, srcs, f, seconds=ONE_SOURCE_S, height=h)
            for s in srcs:
                proxy.apply([(f, s)], "range-log", rewriter=log.asks(f, s))
                proxy.apply([(s, f)], "range-log", rewriter=log.answers(f, s))
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
                    events.append({"delivered": delivered, "source": victim,
                                   "owed": len(log.owed_by(f, victim))})  # fmt: skip

            spec = OracleSpec.load(self.fixture.spec_file)
            gossip = ByzantinePeer(spec, spec.genesis())  # claims genesis: never asked a range

            async def on_height(height: int) -> None:
                for e in events:  # the peer comes back: dial it again
                    if "healed_at" in e and "redialed" not in e:
                        e["redialed"] = height
                        await c.connect(f, e["source"])
                nxt = height + 1
                if height <= 0 or nxt > h or len(races) >= RACES or (races and races[-1] >= nxt):
                    return
                if not c.nodes[srcs[0]].profile.supports(REFERENCE_BLOCK_JSON):
                    return  # the block cannot be re-encoded for gossip: no race is played
                if any(r.start <= nxt <= r.end for r in log.of(f)):  # range sync asked for it
                    blk = await c.nodes[srcs[0]].call("chain_getBlockByHeight", nxt)
                    gossip.send(new_block_payload(OBlock.from_json(blk).encode()))
                    races.append(nxt)

            log.on_reply = on_reply
            try:
                await gossip.connect("127.0.0.1", c.nodes[f].p2p_port)
                for s in srcs:
                    await c.connect(f, s)
                curve = await self._sync_or_fail(
                    out,
                    c,
                    f,
                    "sync completes through disconnections and gossip races",
                    h,
                    on_height,
                )
            finally:
                await gossip.close()
            run.data.update(curve=curve, log=log, follower=f)
            if curve is None:
                return
            await self._check_chain(out, c, f, srcs[0], h)
            stamps = await blocks_at(c.nodes[f], sorted({x + d for x in races for d in (-1, 0, 1)}))
            ts = {x: (b or {}).get("received_at") for x, b in stamps.items()}
            run.data["won"] = [
                x for x in races if ts.get(x) is not None and ts[x] not in (ts.get(x - 1), ts.get(x + 1))
            ]  # fmt: skip
            run.data["head"] = await c.nodes[f].height()
            try:
                run.data["imported"] = (await c.nodes[f].metrics()).get(IMPORTED_METRIC)
            except RpcUnavailable:
                run.data["imported"] = None
            run.data["node_logs"] = c.merged_logs(tail=200)

    @harness_test("resilience")
    async def test_peer_disconnection_resilience(self, out: Outcome) -> None:
        # a cut source is dialled again mid-sync; without an add-peer RPC that dial restarts
        # the follower, which is the recovery scenario, not this one
        self._needs(out, "admin_addPeer")
        run = await self._flaky_run()
        run.carry(out)
        events: list[dict[str, Any]] = run.data["events"]
        log: RangeLog | None = run.data.get("log")
        f = run.data.get("follower")
        asked = log.of(f) if log is not None and f is not None else []
        for e in events:
            healed = e.get("healed_at")
            e["recovered"] = healed is not None and any(
                r.peer == e["source"] and r.at > healed for r in asked
            )
        n_rec = sum(e["recovered"] for e in events)
        rate = n_rec / max(len(events), 1)
        gate = self.config.sync.min_recovery_rate
        curve = run.data.get("curve")
        out.record(
            blocks=run.data["height"], disconnections=len(events), recovered=n_rec,
            recovery_rate=round(rate, 3), recovery_gate=gate,
            blocks_delivered_at_disconnections=[e["delivered"] for e in events],
            ranges_owed_at_disconnections=[e["owed"] for e in events],
            sync_s=round(curve.duration_s, 3) if curve is not None else None,
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
        run.logs_if_failed(out)

    @harness_test("parallel_sync")
    async def test_race_condition_handling(self, out: Outcome) -> None:
        self._needs(out, "chain_getBlockByHeight", "admin_addPeer", REFERENCE_BLOCK_JSON)
        run = await self._flaky_run()
        run.carry(out)
        races: list[int] = run.data["races"]
        events: list[dict[str, Any]] = run.data["events"]
        out.record(
            blocks=run.data["height"], gossiped_during_ranges=races,
            imported_by_gossip_first=run.data.get("won"),
            disconnections_mid_request=len(events),
        )  # fmt: skip
        out.require(bool(races), "gossip raced range sync", "no block gossiped while asked")
        out.require(bool(events), "a source was cut mid-request", "no source owed ranges")
        if run.data.get("curve") is None:
            return
        imported, head = run.data.get("imported"), run.data.get("head")
        out.record(imports_counted=imported, head_height=head)
        if imported is None:
            out.record(duplicate_imports=f"not measurable: no {IMPORTED_METRIC} metric")
        else:
            out.expect(
                int(imported) == head,
                "every height imported exactly once",
                f"{int(imported)} imports for a head of {head}",
            )
        run.logs_if_failed(out)
