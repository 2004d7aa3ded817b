"""Overflow tests: detection, backpressure, recovery, drop policies, load, cascades.

Receivers are parked on a gate while their mailbox is filled, so "full" is an exact state and
every expected drop count is exact. Drops are measured three ways that must agree: what the
receiving actor was actually handed (tracker), the dead-letter sink, and the send results.
"""

from __future__ import annotations

import asyncio
import random
from typing import ClassVar

from ...targets.actor_runtime import MailboxFull, MailboxSpec, Priority
from ...targets.actor_runtime import Overflow as P
from ..base import Outcome, harness_test
from .kit.behaviours import Worker
from .kit.harness import ActorHarnessBase
from .kit.session import ActorSession
from .kit.tracker import Probe

DROP_POLICIES = (P.DROP_NEWEST, P.DROP_OLDEST, P.DROP_LOWEST_PRIORITY, P.REJECT)


class OverflowTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("overflow",)

    def _small_cap(self, lo: int = 8, hi: int = 128) -> int:
        return max(lo, min(self.acfg.mailbox_capacity, hi))

    @harness_test("overflow")
    async def test_mailbox_overflow_detection(self, out: Outcome) -> None:
        self.needs(
            out, "bounded_mailbox", "overflow:reject", "overflow:backpressure", "dead_letters"
        )
        c = self._small_cap()
        k = c // 2
        async with self.session("overflow-detect") as s:
            ref = await s.system.spawn(Worker, name="reject-rx", mailbox=MailboxSpec(c, P.REJECT))
            bp = await s.system.spawn(Worker, name="bp-rx", mailbox=MailboxSpec(c, P.BACKPRESSURE))
            gate = await self.hold(out, ref, "reject-rx")
            bp_gate = await self.hold(out, bp, "bp-rx")
            rejected = 0
            for i in range(c + k):
                try:
                    await ref.tell(Probe("detect", i))
                except MailboxFull:
                    rejected += 1
            depth_full = ref.mailbox_depth
            for i in range(c):
                bp.tell_nowait(Probe("bp", i))
            try:
                bp.tell_nowait(Probe("bp", c))
                nowait_raised = False
            except MailboxFull:
                nowait_raised = True
            gate.release.set()
            bp_gate.release.set()
            await s.tracker.wait_for_count(c + 1, self.timeout_s, actor=ref)
            await s.tracker.wait_for_count(c + 1, self.timeout_s, actor=bp)
            got = s.tracker.keys(ref, "processed")
            dead = sum(1 for key in s.dead_keys("rejected") if key[0] == "detect")
            out.record(
                capacity=c, sent=c + k, rejected=rejected, dead_letters=dead, depth_full=depth_full
            )
            out.expect(
                rejected == k, "overflow detection", f"{rejected} sends rejected, expected {k}"
            )
            out.expect(
                dead == k, "rejections dead-lettered", f"{dead} 'rejected' letters, expected {k}"
            )
            out.expect(
                depth_full == c, "mailbox depth at capacity", f"depth {depth_full}, capacity {c}"
            )
            out.expect(
                got == [("detect", i) for i in range(c)],
                "accepted messages delivered",
                f"{len(got)} of the {c} accepted messages processed",
            )
            out.expect(
                nowait_raised, "overflow detection", "tell_nowait on a full mailbox did not raise"
            )
            self.finish(out, s, "test_mailbox_overflow_detection")

    @harness_test("overflow")
    async def test_backpressure_mechanisms(self, out: Outcome) -> None:
        self.needs(out, "bounded_mailbox", "overflow:backpressure")
        c = self._small_cap()
        n = 4 * c
        async with self.session("backpressure") as s:
            ref = await s.system.spawn(Worker, name="bp-rx", mailbox=MailboxSpec(c, P.BACKPRESSURE))
            gate = await self.hold(out, ref)
            sent = [0]

            async def sender() -> None:
                for i in range(n):
                    await ref.tell(Probe("bp-sender", i))
                    sent[0] += 1

            task = asyncio.create_task(sender())
            await s.tracker.wait_until(
                lambda: len(s.tracker.keys(ref, "enqueued")) >= c, self.timeout_s
            )
            for _ in range(200):  # a sender that is not held back runs ahead within these turns
                await asyncio.sleep(0)
            stalled_at, blocked = sent[0], not task.done()
            gate.release.set()
            await asyncio.wait_for(task, self.timeout_s * 2)
            done = await s.tracker.wait_for_count(
                n + 1, self.timeout_s * 2, actor=ref, idle_refs=[ref]
            )
            got = s.tracker.keys(ref, "processed")
            peak = s.tracker.max_in_flight(ref)
            out.record(
                capacity=c,
                sent=n,
                sender_stalled_at=stalled_at,
                processed=len(got),
                peak_depth=peak,
            )
            out.expect(
                blocked and stalled_at == c,
                "senders slowed by backpressure",
                f"sender got {stalled_at} messages in while the receiver was held (capacity {c})",
            )
            out.expect(done and len(got) == n, "no message loss", f"{len(got)} of {n} processed")
            out.expect(not s.dead, "no message loss", f"{len(s.dead)} dead letters")
            out.expect(peak <= c, "bounded mailbox", f"peak occupancy {peak} > capacity {c}")
            out.expect(
                got == [("bp-sender", i) for i in range(n)][: len(got)],
                "FIFO ordering",
                "backpressured messages were delivered out of order",
            )
            self.finish(out, s, "test_backpressure_mechanisms")

    @harness_test("overflow")
    async def test_overflow_recovery(self, out: Outcome) -> None:
        self.needs(out, "bounded_mailbox", "overflow:drop_newest")
        c = self._small_cap()
        async with self.session("overflow-recovery") as s:
            ref = await s.system.spawn(Worker, name="rec-rx", mailbox=MailboxSpec(c, P.DROP_NEWEST))
            gate = await self.hold(out, ref)
            dropped = sum(not ref.tell_nowait(Probe("flood", i)) for i in range(2 * c))
            gate.release.set()
            drained = await s.tracker.wait_for_count(c + 1, self.timeout_s, actor=ref)
            depth_after = ref.mailbox_depth
            dead_before = len(s.dead)
            accepted = sum([await ref.tell(Probe("after", i)) for i in range(c)])
            recovered = await s.tracker.wait_for_count(2 * c + 1, self.timeout_s, actor=ref)
            after = [k for k in s.tracker.keys(ref, "processed") if k[0] == "after"]
            out.record(
                capacity=c,
                dropped_during_overflow=dropped,
                depth_after_drain=depth_after,
                accepted_after=accepted,
                processed_after=len(after),
                state=ref.state,
            )
            out.expect(dropped == c, "overflow detection", f"{dropped} dropped, expected {c}")
            out.expect(
                drained and depth_after == 0,
                "mailbox drains after overflow",
                f"depth {depth_after}",
            )
            out.expect(
                accepted == c and recovered and len(after) == c and len(s.dead) == dead_before,
                "overflow recovery",
                f"after draining, {accepted} of {c} accepted and {len(after)} processed",
            )
            out.expect(ref.is_alive, "actor survives overflow", f"state {ref.state}")
            self.finish(out, s, "test_overflow_recovery")

    @harness_test("overflow")
    async def test_message_dropping_policies(self, out: Outcome) -> None:
        self.needs(
            out,
            "bounded_mailbox",
            "priority_mailbox",
            "dead_letters",
            *(p.capability for p in DROP_POLICIES),
        )
        c = self._small_cap()
        k = c // 2 + 1
        rng = self.rng("drop-policies")
        async with self.session("drop-policies") as s:
            for policy in DROP_POLICIES:
                await self._check_policy(out, s, policy, c, k, rng)
            self.finish(out, s, "test_message_dropping_policies")

    async def _check_policy(
        self, out: Outcome, s: ActorSession, policy: P, c: int, k: int, rng: random.Random
    ) -> None:
        n = c + k
        tag = policy.value
        uniform = policy in (P.DROP_NEWEST, P.REJECT)
        prios = [Priority.NORMAL if uniform else rng.choice(list(Priority)) for _ in range(n)]
        # keep criticals under capacity so "critical messages preserved" is always achievable
        crit = [i for i, p in enumerate(prios) if p is Priority.CRITICAL]
        for i in crit[c // 4 :]:
            prios[i] = Priority.HIGH
        ref = await s.system.spawn(Worker, name=f"drop-{tag}", mailbox=MailboxSpec(c, policy))
        gate = await self.hold(out, ref, f"drop-{tag}")
        refused = 0
        for i, p in enumerate(prios):
            try:
                ok = ref.tell_nowait(Probe(tag, i), priority=p)
            except MailboxFull:
                ok = False
            refused += not ok
        gate.release.set()
        await s.tracker.wait_for_count(c + 1, self.timeout_s, actor=ref)
        kept = [key[1] for key in s.tracker.keys(ref, "processed")]
        dead = [key[1] for key in s.dead_keys() if key[0] == tag]
        out.record(
            **{f"{tag}_kept": len(kept), f"{tag}_dropped": len(dead), f"{tag}_refused": refused}
        )
        out.expect(
            len(kept) == c and len(dead) == k,
            f"{tag} drop count",
            f"capacity {c}, sent {n}: {len(kept)} delivered, {len(dead)} dead-lettered, expected {c}/{k}",
        )
        out.expect(
            sorted(kept + dead) == list(range(n)),
            f"{tag} conservation",
            "some messages were neither delivered nor dead-lettered, or both",
        )
        if uniform:
            out.expect(
                sorted(kept) == list(range(c)) and refused == k,
                f"{tag} drops the newest",
                f"delivered {sorted(kept)[:5]}..., refused {refused}",
            )
            return
        critical = {i for i, p in enumerate(prios) if p is Priority.CRITICAL}
        out.expect(
            critical <= set(kept),
            "critical messages preserved",
            f"{tag}: {len(critical - set(kept))} of {len(critical)} critical messages dropped",
        )
        if policy is P.DROP_OLDEST:
            # within each priority level the survivors are the newest ones
            bad = [
                lvl
                for lvl in Priority
                if any(d > x for d in dead if prios[d] == lvl for x in kept if prios[x] == lvl)
            ]
            out.expect(not bad, f"{tag} drops the oldest", f"newer messages dropped at {bad}")
        else:
            worst_kept = max((prios[i] for i in kept), default=0)
            best_dropped = min((prios[i] for i in dead), default=99)
            out.expect(
                worst_kept <= best_dropped,
                f"{tag} drops the least urgent",
                f"kept a priority-{int(worst_kept)} message but dropped a priority-{int(best_dropped)} one",
            )

    @harness_test("overflow")
    async def test_overflow_under_load(self, out: Outcome) -> None:
        self.needs(out, "bounded_mailbox", "overflow:drop_oldest", "dead_letters")
        senders = self.scale("actor_count", 4, 16)
        receivers = 4
        c = max(4, self.acfg.mailbox_capacity // 32)
        per_sender = max(4 * c, self.acfg.message_count // senders)
        burst = 2 * c
        async with self.session("overflow-load") as s:
            mb = MailboxSpec(c, P.DROP_OLDEST)
            refs = [
                await s.system.spawn(Worker, name=f"load-rx-{i}", mailbox=mb)
                for i in range(receivers)
            ]

            async def sender(si: int) -> None:
                for i in range(per_sender):
                    ref = refs[(si + i) % receivers]
                    await ref.tell(Probe(f"load-{si}", i))
                    if i % burst == burst - 1:
                        await asyncio.sleep(0)

            await asyncio.wait_for(
                asyncio.gather(*(sender(si) for si in range(senders))), self.timeout_s * 4
            )
            total = senders * per_sender
            settled = await s.tracker.wait_until(
                lambda: s.tracker.message_count(None, "processed") + len(s.dead) >= total,
                self.timeout_s * 2,
                idle_refs=refs,
            )
            processed = s.tracker.keys(None, "processed")
            dead = s.dead_keys()
            both = set(processed) & set(dead)
            out.record(
                senders=senders,
                receivers=receivers,
                capacity=c,
                sent=total,
                processed=len(processed),
                dropped=len(dead),
                drop_rate=len(dead) / total,
            )
            out.expect(
                len(dead) > 0, "overload reached", "no message was dropped: mailboxes never filled"
            )
            out.expect(
                settled and len(processed) + len(dead) == total and not both,
                "message accounting under overload",
                f"sent {total} = processed {len(processed)} + dropped {len(dead)}? "
                f"{len(both)} both delivered and dropped",
            )
            out.expect(
                not s.tracker.per_sender_violations(),
                "per-sender FIFO ordering",
                "surviving messages delivered out of order",
            )
            self.finish(out, s, "test_overflow_under_load")

    @harness_test("overflow")
    async def test_cascading_overflow_prevention(self, out: Outcome) -> None:
        self.needs(out, "bounded_mailbox", "overflow:backpressure")
        c = max(4, self.acfg.mailbox_capacity // 64)
        n = 8 * c
        mb = MailboxSpec(c, P.BACKPRESSURE)
        async with self.session("cascade-overflow") as s:
            sink = await s.system.spawn(Worker, name="sink", mailbox=mb)
            s2 = await s.system.spawn(lambda: Worker("s2", forward_to=sink), name="s2", mailbox=mb)
            s1 = await s.system.spawn(lambda: Worker("s1", forward_to=s2), name="s1", mailbox=mb)
            bystander = await s.system.spawn(Worker, name="bystander")
            gate = await self.hold(out, sink, "sink")
            sent = [0]

            async def producer() -> None:
                for i in range(n):
                    await s1.tell(Probe("src", i))
                    sent[0] += 1

            task = asyncio.create_task(producer())
            await s.tracker.wait_until(
                lambda: s.tracker.message_count(sink, "enqueued") >= c + 1, self.timeout_s
            )
            for _ in range(200):
                await asyncio.sleep(0)
            replies = [
                await bystander.ask(Probe("by", i, i), timeout_s=self.timeout_s) for i in range(10)
            ]
            stalled_at, producer_blocked = sent[0], not task.done()
            peaks = {r.name: s.tracker.max_in_flight(r) for r in (s1, s2, sink)}
            gate.release.set()
            await asyncio.wait_for(task, self.timeout_s * 2)
            done = await s.tracker.wait_for_count(
                n + 1, self.timeout_s * 2, actor=sink, idle_refs=[s1, s2, sink]
            )
            got = s.tracker.keys(sink, "processed")
            out.record(
                capacity=c,
                sent=n,
                producer_stalled_at=stalled_at,
                peaks=peaks,
                dead_letters=len(s.dead),
            )
            out.expect(
                producer_blocked and stalled_at < n,
                "backpressure propagates upstream",
                f"producer sent {stalled_at} of {n} while the sink was stalled",
            )
            out.expect(
                all(p <= c for p in peaks.values()),
                "bounded mailboxes along the chain",
                f"peak occupancy {peaks} with capacity {c}",
            )
            out.expect(
                replies == list(range(10)),
                "unrelated actors unaffected",
                f"bystander replied {replies}",
            )
            out.expect(
                done and got == [("s2", i) for i in range(n)] and not s.dead,
                "no message loss",
                f"sink processed {len(got)} of {n}, {len(s.dead)} dead letters",
            )
            self.finish(out, s, "test_cascading_overflow_prevention")
