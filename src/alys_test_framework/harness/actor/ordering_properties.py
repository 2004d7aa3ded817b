"""ordering_properties: message order and overflow as properties over generated bursts.

Each case parks a fresh receiver inside a handler, sends a generated burst (senders, sequence
numbers, priorities), releases it and compares what the runtime's dequeue hook reported with
the documented order (kit/mailbox_model.py states it). The overflow property does the same
against a bounded mailbox of a generated capacity and policy and also compares what each send
returned and what became a dead letter. On a runtime without priorities or bounds the property
that needs them is unsupported, never passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from hypothesis import strategies as st

from ...generators.actors import ActorMessage, MailboxBurst, mailbox_bursts, message_bursts
from ...targets.actor_runtime import (
    ActorHandle,
    ActorRuntimeError,
    MailboxFull,
    MailboxSpec,
    Overflow,
    Priority,
)
from ..base import Outcome, harness_test
from .kit.behaviours import Worker
from .kit.mailbox_model import ACCEPTED, DROPPED, REFUSED, predict
from .kit.properties import ActorPropertyBase
from .kit.session import ActorSession
from .kit.tracker import Probe


class OrderingPropertyTests(ActorPropertyBase):
    categories: ClassVar[tuple[str, ...]] = ("ordering_properties",)

    # -- helpers ------------------------------------------------------------------------------
    async def _delivered(
        self, out: Outcome, s: ActorSession, burst: Sequence[ActorMessage],
        mailbox: MailboxSpec | None, expect: int | None = None,
    ) -> tuple[list[Any], list[str], list[int]]:  # fmt: skip
        """Park a fresh receiver, send ``burst`` without waiting, release it; return the keys
        in dequeue order, what each send did, and the dequeued priorities."""
        ref = await s.system.spawn(Worker, mailbox=mailbox)
        try:
            gate = await self.hold(out, ref, "receiver")
            outcomes = [_send(ref, m) for m in burst]
            gate.release.set()
            want = expect if expect is not None else outcomes.count(ACCEPTED)
            await s.tracker.wait_for_count(want + 1, self.timeout_s, actor=ref, idle_refs=[ref])
            got = [t for t in s.tracker.events(ref, "dequeued") if t.key is not None]
            return [t.key for t in got], outcomes, [int(t.priority) for t in got]
        finally:
            await _stop(s, ref, self.timeout_s)

    # -- FIFO within a priority and per-sender numbering ---------------------------------------
    @harness_test("ordering_properties")
    async def test_property_fifo_within_priority(self, out: Outcome) -> None:
        """Within one priority, messages are delivered in send order, each sender's in its
        sequence order, none lost or duplicated (priorities vary where the runtime has them)."""
        allowed = (
            tuple(Priority) if self.target.supports("priority_mailbox") else (Priority.NORMAL,)
        )
        out.record(priorities=[p.name for p in allowed])

        async with self.session("prop-fifo") as s:

            async def check(burst: tuple[ActorMessage, ...]) -> None:
                keys, _, _ = await self._delivered(out, s, burst, None, expect=len(burst))
                _assert_complete(burst, keys)
                for p in allowed:
                    sent = [m.key for m in burst if m.priority == p]
                    got = [k for k in keys if k in set(sent)]
                    assert got == sent, f"{p.name}: delivered {got} for sent {sent}"

            await self.actor_property(
                out, "test_property_fifo_within_priority", "FIFO within a priority",
                message_bursts(allowed=allowed), check, self.examples("ordering_examples"),
            )  # fmt: skip
            self.finish(out, s, "test_property_fifo_within_priority")

    @harness_test("ordering_properties")
    async def test_property_critical_first(self, out: Outcome) -> None:
        """Mixed priorities: everything queued is delivered most urgent first (CRITICAL before
        HIGH before NORMAL before LOW), FIFO within each."""
        self.needs(out, "priority_mailbox")
        async with self.session("prop-priority") as s:

            async def check(burst: tuple[ActorMessage, ...]) -> None:
                keys, _, prios = await self._delivered(out, s, burst, None, expect=len(burst))
                _assert_complete(burst, keys)
                want = [m.key for m in sorted(burst, key=lambda m: m.priority)]
                inversions = [
                    (Priority(a).name, Priority(b).name)
                    for a, b in zip(prios, prios[1:], strict=False)
                    if a > b
                ]
                assert not inversions, f"less urgent before more urgent: {inversions[:3]}"
                assert keys == want, f"delivered {keys}, documented order {want}"

            await self.actor_property(
                out, "test_property_critical_first", "critical first, by priority",
                message_bursts(min_len=2), check, self.examples("ordering_examples"),
            )  # fmt: skip
            self.finish(out, s, "test_property_critical_first")

    @harness_test("ordering_properties")
    async def test_property_per_sender_sequence(self, out: Outcome) -> None:
        """Concurrent senders (generated interleaving, receiver running): each sender's
        messages arrive in its sequence order with no gap and no duplicate."""
        async with self.session("prop-senders") as s:

            async def check(case: tuple[tuple[ActorMessage, ...], tuple[bool, ...]]) -> None:
                burst, yields = case
                ref = await s.system.spawn(Worker)
                try:
                    await _concurrent_senders(ref, burst, yields)
                    await s.tracker.wait_for_count(len(burst), self.timeout_s, actor=ref,
                                                   idle_refs=[ref])  # fmt: skip
                    keys = s.tracker.keys(ref, "dequeued")
                    _assert_complete(burst, keys)
                    _assert_per_sender(keys)
                finally:
                    await _stop(s, ref, self.timeout_s)

            strategy = st.tuples(
                message_bursts(allowed=(Priority.NORMAL,), max_len=60),
                st.lists(st.booleans(), min_size=8, max_size=8).map(tuple),
            )
            await self.actor_property(
                out, "test_property_per_sender_sequence", "per-sender sequence numbering",
                strategy, check, self.examples("ordering_examples"),
            )  # fmt: skip
            self.finish(out, s, "test_property_per_sender_sequence")

    # -- overflow ------------------------------------------------------------------------------
    @harness_test("ordering_properties")
    async def test_property_overflow_eviction(self, out: Outcome) -> None:
        """For every overflow policy the runtime has, a generated burst into a bounded mailbox:
        each send's result, the evicted messages and the delivery order are the documented ones."""
        self.needs(out, "bounded_mailbox", "priority_mailbox")
        policies = tuple(o for o in Overflow if self.target.supports(o.capability))
        lacking = [o.value for o in Overflow if o not in policies]
        out.record(policies=[o.value for o in policies], policies_unsupported=lacking)
        if not policies:
            out.unsupported(
                f"{self.target.name} has no overflow policy: {self.target.why_not('overflow:reject')}"
            )
        dead_letters = self.target.supports("dead_letters")
        async with self.session("prop-overflow") as s:

            async def check(b: MailboxBurst) -> None:
                s.dead.clear()
                pred = predict(b.capacity, b.overflow, [(m.key, m.priority) for m in b.messages])
                keys, outcomes, _ = await self._delivered(
                    out, s, b.messages, MailboxSpec(b.capacity, b.overflow),
                    expect=len(pred.delivered),
                )  # fmt: skip
                sent = [
                    (m, o, w)
                    for m, o, w in zip(b.messages, outcomes, pred.outcomes, strict=True)
                    if o != w
                ]
                assert not sent, f"{b.overflow.value} cap {b.capacity}: sends " + ", ".join(
                    f"{m!r} {o} (documented: {w})" for m, o, w in sent[:3]
                )
                assert keys == pred.delivered, f"delivered {keys}, documented {pred.delivered}"
                if dead_letters:
                    undelivered = {m.key for m in b.messages} - set(pred.delivered)
                    dead = s.dead_keys()
                    assert sorted(dead) == sorted(undelivered), (
                        f"dead letters {sorted(dead)}, documented {sorted(undelivered)}"
                    )

            await self.actor_property(
                out, "test_property_overflow_eviction", "overflow policy eviction rule",
                mailbox_bursts(overflows=policies), check, self.examples("ordering_examples"),
                [b for b in overflow_boundaries() if b.overflow in policies],
            )  # fmt: skip
            self.finish(out, s, "test_property_overflow_eviction")


def overflow_boundaries() -> list[MailboxBurst]:
    """Each policy at its boundary (kit/mailbox_model.py rule 3): a full mailbox of capacity 1
    or 2 meets an arrival as urgent as, more urgent than and less urgent than what is queued."""
    n, h, lo = Priority.NORMAL, Priority.HIGH, Priority.LOW

    def burst(cap: int, policy: Overflow, *prios: Priority) -> MailboxBurst:
        return MailboxBurst(
            cap, policy, tuple(ActorMessage("b", i, p) for i, p in enumerate(prios))
        )

    cases = [burst(1, o, n, n) for o in Overflow]  # equal urgency: every policy's full case
    for o in (Overflow.DROP_OLDEST, Overflow.DROP_LOWEST_PRIORITY):
        cases += [
            burst(1, o, h, n),
            burst(1, o, n, h),
            burst(2, o, lo, lo, n),
            burst(2, o, h, lo, n),
        ]
    return cases


def _send(ref: ActorHandle, m: ActorMessage) -> str:
    try:
        return ACCEPTED if ref.tell_nowait(Probe(m.sender, m.seq), priority=m.priority) else DROPPED
    except MailboxFull:
        return REFUSED


async def _concurrent_senders(
    ref: ActorHandle, burst: Sequence[ActorMessage], yields: Sequence[bool]
) -> None:
    """One task per sender; a sender yields to the others after a message when told to."""
    per: dict[str, list[tuple[ActorMessage, bool]]] = {}
    for i, m in enumerate(burst):
        per.setdefault(m.sender, []).append((m, yields[i % len(yields)]))

    async def sender(msgs: list[tuple[ActorMessage, bool]]) -> None:
        for m, y in msgs:
            await ref.tell(Probe(m.sender, m.seq), priority=m.priority)
            if y:
                await asyncio.sleep(0)

    await asyncio.gather(*(sender(v) for v in per.values()))


async def _stop(s: ActorSession, ref: ActorHandle, timeout_s: float) -> None:
    try:
        await s.system.stop(ref, timeout_s)
    except ActorRuntimeError:
        pass


def _assert_complete(burst: Sequence[ActorMessage], keys: Sequence[Any]) -> None:
    sent = [m.key for m in burst]
    missing = [k for k in sent if k not in set(keys)]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    assert not missing, f"lost {missing[:5]} of {len(sent)}"
    assert not dups, f"delivered twice: {dups[:5]}"


def _assert_per_sender(keys: Sequence[Any]) -> None:
    nxt: dict[str, int] = {}
    for sender, seq in keys:
        want = nxt.get(sender, 0)
        assert seq == want, f"{sender} delivered #{seq} when #{want} was next"
        nxt[sender] = seq + 1
