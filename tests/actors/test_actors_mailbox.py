"""Mailbox capacity, overflow policies, priorities and dead letters."""

from __future__ import annotations

import asyncio

import pytest

from alys_actors import (
    ActorSystem,
    Mailbox,
    MailboxConfig,
    MailboxFull,
    OverflowPolicy,
    Priority,
)

from .actors_kit import Block, Get, Recorder, run, wait_until

P = Priority


@pytest.mark.parametrize("cap", [0, -1, 1.5, "10", True, None])
def test_invalid_capacity_is_rejected_at_construction(cap: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        MailboxConfig(capacity=cap)  # type: ignore[arg-type]


def test_invalid_policy_is_rejected_with_choices() -> None:
    with pytest.raises(ValueError, match="drop_newest"):
        MailboxConfig(policy="drop_everything")  # type: ignore[arg-type]
    assert MailboxConfig(policy="reject").policy is OverflowPolicy.REJECT  # type: ignore[arg-type]


def test_spawn_with_non_config_mailbox_is_a_clear_error() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            with pytest.raises(TypeError, match="MailboxConfig"):
                await system.spawn(Recorder, mailbox=5)  # type: ignore[arg-type]

    run(main())


def test_priority_order_and_fifo_within_priority() -> None:
    mb = Mailbox(MailboxConfig(100))
    order = [(P.LOW, "l1"), (P.NORMAL, "n1"), (P.CRITICAL, "c1"), (P.HIGH, "h1"), (P.LOW, "l2")]
    order += [(P.CRITICAL, "c2"), (P.NORMAL, "n2"), (P.HIGH, "h2")]
    for prio, item in order:
        assert mb.put_nowait(item, prio).accepted
    got = [mb.get_nowait() for _ in range(len(order))]
    assert got == ["c1", "c2", "h1", "h2", "n1", "n2", "l1", "l2"]
    assert mb.depth == 0


def test_mailbox_level_drop_policies() -> None:
    mb = Mailbox(MailboxConfig(2, OverflowPolicy.DROP_NEWEST))
    mb.put_nowait("a", P.NORMAL), mb.put_nowait("b", P.NORMAL)
    r = mb.put_nowait("c", P.CRITICAL)
    assert (r.accepted, r.reason) == (False, "dropped_newest")

    mb = Mailbox(MailboxConfig(2, OverflowPolicy.DROP_OLDEST))
    mb.put_nowait("a", P.NORMAL), mb.put_nowait("b", P.NORMAL)
    r = mb.put_nowait("c", P.NORMAL)
    assert (r.accepted, r.reason, r.evicted) == (True, "dropped_oldest", "a")
    r = mb.put_nowait("d", P.LOW)  # never evict a more urgent message for a less urgent one
    assert (r.accepted, r.reason) == (False, "dropped_oldest")
    r = mb.put_nowait("e", P.CRITICAL)
    assert (r.accepted, r.evicted) == (True, "b")

    mb = Mailbox(MailboxConfig(2, OverflowPolicy.DROP_LOWEST_PRIORITY))
    mb.put_nowait("h", P.HIGH), mb.put_nowait("l", P.LOW)
    r = mb.put_nowait("n", P.NORMAL)
    assert (r.accepted, r.evicted, r.evicted_priority) == (True, "l", P.LOW)
    r = mb.put_nowait("n2", P.NORMAL)  # lowest present is NORMAL == incoming: incoming loses
    assert (r.accepted, r.reason) == (False, "dropped_lowest_priority")

    mb = Mailbox(MailboxConfig(1, OverflowPolicy.REJECT))
    mb.put_nowait("a", P.NORMAL)
    assert mb.put_nowait("b", P.NORMAL).reason == "rejected"
    mb = Mailbox(MailboxConfig(1))
    mb.put_nowait("a", P.NORMAL)
    assert mb.put_nowait("b", P.NORMAL).reason == "full"


async def _blocked(system: ActorSystem, cfg: MailboxConfig):
    """An actor held inside a handler, so its mailbox fills deterministically."""
    ref = await system.spawn(Recorder, mailbox=cfg)
    gate = asyncio.Event()
    ref.tell_nowait(Block(gate))
    await wait_until(lambda: ref.mailbox.depth == 0, what="Block dequeued")
    return ref, gate


def test_drop_newest_drops_the_incoming_message_and_counts_it() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref, gate = await _blocked(system, MailboxConfig(3, OverflowPolicy.DROP_NEWEST))
            results = [await ref.tell(i) for i in range(5)]
            assert results == [True, True, True, False, False]
            assert system.dead_letters.by_reason == {"dropped_newest": 2}
            assert [d.msg for d in system.dead_letters.recent] == [3, 4]
            assert ref.stats.dropped == 2
            gate.set()
            await wait_until(lambda: ref.mailbox.depth == 0, what="drained")
            assert (await ref.ask(Get()))[-3:] == [0, 1, 2]

    run(main())


def test_drop_oldest_evicts_oldest_and_fails_its_ask() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref, gate = await _blocked(system, MailboxConfig(2, OverflowPolicy.DROP_OLDEST))
            pending = asyncio.ensure_future(ref.ask("first"))
            await asyncio.sleep(0)
            assert ref.tell_nowait("second") and ref.tell_nowait("third")
            with pytest.raises(MailboxFull, match="dropped_oldest"):
                await pending
            assert system.dead_letters.by_reason == {"dropped_oldest": 1}
            gate.set()
            await wait_until(lambda: ref.mailbox.depth == 0, what="drained")
            assert await ref.ask(Get()) == ["second", "third"]

    run(main())


def test_drop_lowest_priority_keeps_urgent_messages() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            cfg = MailboxConfig(3, OverflowPolicy.DROP_LOWEST_PRIORITY)
            ref, gate = await _blocked(system, cfg)
            ref.tell_nowait("low1", P.LOW)
            ref.tell_nowait("low2", P.LOW)
            ref.tell_nowait("norm", P.NORMAL)
            assert ref.tell_nowait("crit", P.CRITICAL) is True  # evicts low2 (newest LOW)
            assert ref.tell_nowait("low3", P.LOW) is False  # nothing lower to evict
            assert [d.msg for d in system.dead_letters.recent] == ["low2", "low3"]
            assert system.dead_letters.by_reason == {"dropped_lowest_priority": 2}
            gate.set()
            await wait_until(lambda: ref.mailbox.depth == 0, what="drained")
            assert await ref.ask(Get(), priority=P.LOW) == ["crit", "norm", "low1"]

    run(main())


def test_reject_raises_mailbox_full_naming_actor_and_policy() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref, gate = await _blocked(system, MailboxConfig(1, OverflowPolicy.REJECT))
            assert await ref.tell("a")
            with pytest.raises(MailboxFull, match="reject"):
                await ref.tell("b")
            with pytest.raises(MailboxFull):
                ref.tell_nowait("c")
            with pytest.raises(MailboxFull):
                await ref.ask("d")
            assert system.dead_letters.by_reason == {"rejected": 3}
            gate.set()

    run(main())


def test_backpressure_makes_sender_wait_and_loses_nothing() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref, gate = await _blocked(system, MailboxConfig(2))
            assert ref.tell_nowait(0)
            assert ref.tell_nowait(1)
            with pytest.raises(MailboxFull, match="backpressure"):
                ref.tell_nowait("no-room")
            sender = asyncio.ensure_future(asyncio.gather(*(ref.tell(i) for i in range(2, 50))))
            await asyncio.sleep(0.01)
            assert not sender.done(), "tell must wait for room under backpressure"
            assert ref.mailbox.depth == 2
            gate.set()
            assert all(await sender)
            log = await ref.ask(Get())
            assert log == list(range(50))
            assert system.dead_letters.by_reason == {"rejected": 1}

    run(main())


def test_waiting_sender_gets_actor_stopped_when_actor_stops() -> None:
    from alys_actors import ActorStopped

    async def main() -> None:
        async with ActorSystem() as system:
            ref, gate = await _blocked(system, MailboxConfig(1))
            ref.tell_nowait("fill")
            waiting = asyncio.ensure_future(ref.tell("waits"))
            await asyncio.sleep(0.01)
            await system.kill(ref)
            with pytest.raises(ActorStopped):
                await waiting

    run(main())


def test_dead_letter_subscribers_and_stats_depth() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            seen = []
            system.dead_letters.subscribe(seen.append)
            ref, gate = await _blocked(system, MailboxConfig(1, OverflowPolicy.DROP_NEWEST))
            ref.tell_nowait("kept")
            ref.tell_nowait("lost", P.HIGH)
            assert ref.stats.mailbox_depth == 1
            assert [(d.msg, d.reason, d.priority, d.target) for d in seen] == [
                ("lost", "dropped_newest", P.HIGH, ref)
            ]
            assert system.dead_letters.count == 1
            gate.set()

    run(main())


def test_pluggable_mailbox_factory_is_used() -> None:
    class Lifo(Mailbox):
        """Deliberately broken: newest first."""

        def get_nowait(self):  # type: ignore[no-untyped-def]
            for dq in self._queues:
                if dq:
                    self._size -= 1
                    return dq.pop()
            return super().get_nowait()

    async def main() -> None:
        async with ActorSystem(mailbox_factory=Lifo) as system:
            ref, gate = await _blocked(system, MailboxConfig(10))
            for i in range(3):
                ref.tell_nowait(i)
            gate.set()
            assert await ref.ask(Get(), priority=P.LOW) == [2, 1, 0]

    run(main())
