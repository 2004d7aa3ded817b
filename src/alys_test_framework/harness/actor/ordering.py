"""Ordering tests: FIFO, priority order, and per-sender order under concurrency.

Each test parks the receiver first so the mailbox really holds many messages at once (a
mailbox can only reorder what it holds), then compares the order the runtime's dequeue hook
reported with the order the property demands.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from ...targets.actor_runtime import ActorHandle, Overflow, Priority
from ..base import Outcome, harness_test
from .kit.behaviours import Worker
from .kit.harness import ActorHarnessBase
from .kit.tracker import Probe


class OrderingTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("ordering",)

    @harness_test("ordering")
    async def test_fifo_message_ordering(self, out: Outcome) -> None:
        n = self.scale("message_count", 100)
        cap = self.acfg.mailbox_capacity
        async with self.session("fifo", self.bounded(out, cap, Overflow.BACKPRESSURE)) as s:
            ref = await s.system.spawn(Worker, name="fifo-receiver")
            keys = [("fifo-sender", i) for i in range(n)]
            s.tracker.set_expected_ordering(ref, keys)
            gate = await self.hold(out, ref)
            sender = asyncio.create_task(self._send_all(ref, keys))
            queued = await s.tracker.wait_until(
                lambda: s.tracker.message_count(ref, "enqueued") >= min(n, cap) + 1, self.timeout_s
            )
            gate.release.set()
            await asyncio.wait_for(sender, self.timeout_s * 4)
            done = await s.tracker.wait_for_count(
                n + 1, self.timeout_s * 4, actor=ref, idle_refs=[ref]
            )
            check = s.tracker.verify_ordering(ref)
            out.record(messages=n, dequeued=check.observed, queued_at_once=min(n, cap))
            out.expect(queued, "mailbox filled", "receiver mailbox never held the first batch")
            out.expect(done, "no message loss", f"{check.observed} of {n} messages dequeued")
            out.expect(check.ok, "FIFO ordering", check.detail)
            self.finish(out, s, "test_fifo_message_ordering")

    @harness_test("ordering")
    async def test_priority_message_ordering(self, out: Outcome) -> None:
        self.needs(out, "priority_mailbox")
        m = self.scale("message_count", 40, 2000)
        rng = self.rng("priority")
        prios = [rng.choice(list(Priority)) for _ in range(m)]
        keys = [("prio-sender", i) for i in range(m)]
        expected = [k for _, k in sorted(zip(prios, keys, strict=True), key=lambda pk: pk[0])]
        async with self.session("priority", self.bounded(out, m + 1)) as s:
            ref = await s.system.spawn(Worker, name="prio-receiver")
            s.tracker.set_expected_ordering(ref, expected)
            gate = await self.hold(out, ref)
            for (sender, i), p in zip(keys, prios, strict=True):
                ref.tell_nowait(_probe(sender, i), priority=p)
            gate.release.set()
            done = await s.tracker.wait_for_count(
                m + 1, self.timeout_s * 2, actor=ref, idle_refs=[ref]
            )
            check = s.tracker.verify_ordering(ref)
            got_prios = [t.priority for t in s.tracker.events(ref, "dequeued") if t.key is not None]
            inversions = sum(1 for a, b in zip(got_prios, got_prios[1:], strict=False) if a > b)
            out.record(messages=m, dequeued=check.observed, priority_inversions=inversions)
            out.expect(done, "no message loss", f"{check.observed} of {m} messages dequeued")
            out.expect(
                inversions == 0,
                "priority ordering",
                f"{inversions} times a less urgent message was delivered before a more urgent one",
            )
            out.expect(check.ok, "FIFO within priority", check.detail)
            self.finish(out, s, "test_priority_message_ordering")

    @harness_test("ordering")
    async def test_concurrent_ordering_verification(self, out: Outcome) -> None:
        senders = self.scale("actor_count", 4, 32)
        receivers = max(2, senders // 8)
        per_sender = max(20, self.acfg.message_count // senders)
        rng = self.rng("concurrent-order")
        mailbox = self.bounded(out, self.acfg.mailbox_capacity)
        async with self.session("concurrent-order", mailbox) as s:
            refs = [await s.system.spawn(Worker, name=f"order-rx-{i}") for i in range(receivers)]
            gates = [await self.hold(out, r) for r in refs]
            plans = []
            for _ in range(senders):
                plans.append(
                    [(rng.randrange(receivers), rng.random() < 0.3) for _ in range(per_sender)]
                )

            async def run_sender(si: int) -> None:
                for seq, (ri, yield_now) in enumerate(plans[si]):
                    await refs[ri].tell(_probe(f"sender-{si}", seq))
                    if yield_now:
                        await asyncio.sleep(0)

            tasks = [asyncio.create_task(run_sender(si)) for si in range(senders)]
            total = senders * per_sender
            await s.tracker.wait_until(
                lambda: s.tracker.message_count(None, "enqueued") >= receivers + min(total, 64),
                self.timeout_s,
            )
            for g in gates:
                g.release.set()
            await asyncio.wait_for(asyncio.gather(*tasks), self.timeout_s * 4)
            done = await s.tracker.wait_for_count(
                total + receivers, self.timeout_s * 4, idle_refs=refs
            )
            violations = s.tracker.per_sender_violations()
            expected_keys = [
                (f"sender-{si}", q) for si in range(senders) for q in range(per_sender)
            ]
            missing, dups = s.tracker.loss_and_duplicates(expected_keys)
            out.record(
                senders=senders,
                receivers=receivers,
                messages=total,
                order_violations=len(violations),
                missing=len(missing),
                duplicates=len(dups),
            )
            out.expect(
                done and not missing, "no message loss", f"{len(missing)} of {total} missing"
            )
            out.expect(
                not dups, "exactly-once delivery", f"{len(dups)} duplicated, e.g. {dups[:3]}"
            )
            out.expect(
                not violations,
                "per-sender FIFO ordering",
                f"{len(violations)} out-of-order deliveries, e.g. {violations[:3]}",
            )
            self.finish(out, s, "test_concurrent_ordering_verification")

    async def _send_all(self, ref: ActorHandle, keys: list[tuple[str, int]]) -> None:
        for sender, i in keys:
            await ref.tell(_probe(sender, i))


def _probe(sender: str, seq: int) -> Probe:
    return Probe(sender, seq, seq)
