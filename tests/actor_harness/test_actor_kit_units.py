"""Unit tests of the MessageTracker and LifecycleMonitor on synthetic hook calls.

They pin down that the checks themselves can fail: a reordered, lost or duplicated message
and an illegal or broken transition chain are each reported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

from alys_test_framework.harness.actor.kit.monitor import LifecycleMonitor
from alys_test_framework.harness.actor.kit.tracker import MessageTracker, Probe


@dataclass
class FakeRef:
    id: int
    name: str | None = None


class S(str, Enum):  # spelled differently from the runtime on purpose: names are compared
    UNINITIALIZED = "u"
    STARTING = "s"
    RUNNING = "r"
    FAILED = "f"
    RECOVERING = "rec"
    STOPPING = "sg"
    STOPPED = "sd"


def feed(
    tracker: MessageTracker, ref: FakeRef, keys: list[tuple[str, int]], event: str = "dequeued"
) -> None:
    for sender, seq in keys:
        tracker.track_message(event, ref, Probe(sender, seq), 2)


def test_tracker_verifies_fifo_and_reports_first_mismatch() -> None:
    t, ref = MessageTracker(), FakeRef(1, "rx")
    keys = [("a", i) for i in range(5)]
    t.set_expected_ordering(ref, keys)
    feed(t, ref, keys)
    assert t.verify_ordering(ref).ok
    t2 = MessageTracker()
    t2.set_expected_ordering(ref, keys)
    feed(t2, ref, [keys[0], keys[2], keys[1], keys[3], keys[4]])
    check = t2.verify_ordering(ref)
    assert not check.ok and "position 1" in check.detail


def test_tracker_reports_missing_and_short_sequences() -> None:
    t, ref = MessageTracker(), FakeRef(1)
    keys = [("a", i) for i in range(4)]
    t.set_expected_ordering(ref, keys)
    feed(t, ref, keys[:3])
    check = t.verify_ordering(ref)
    assert not check.ok and "3 messages" in check.detail
    feed(t, ref, keys[:3], event="processed")
    feed(t, ref, keys[:1], event="processed")
    missing, dups = t.loss_and_duplicates(keys)
    assert missing == [("a", 3)] and dups == [("a", 0)]


def test_tracker_per_sender_order_and_counts() -> None:
    t, ref = MessageTracker(), FakeRef(7)
    feed(t, ref, [("a", 0), ("b", 0), ("a", 1), ("b", 1)])
    assert t.per_sender_violations() == []
    feed(t, ref, [("a", 0)])
    assert len(t.per_sender_violations(ref)) == 1
    assert t.message_count(ref, "dequeued") == 5 and t.message_count(None, "processed") == 0
    t.track_message("dequeued", ref, "not a probe", 2)
    assert t.message_count(ref, "dequeued") == 6 and len(t.keys(ref)) == 5


def test_tracker_in_flight_and_wait() -> None:
    t, ref = MessageTracker(), FakeRef(3)
    feed(t, ref, [("a", i) for i in range(3)], event="enqueued")
    feed(t, ref, [("a", 0)], event="dequeued")
    feed(t, ref, [("a", 3)], event="enqueued")
    assert t.max_in_flight(ref) == 3

    async def scenario() -> tuple[bool, bool]:
        late = asyncio.get_running_loop().call_later(0.01, feed, t, ref, [("a", 9)], "processed")
        ok = await t.wait_for_count(1, timeout_s=2.0, actor=ref)
        late.cancel()
        never = await t.wait_for_count(5, timeout_s=0.05, actor=ref)
        return ok, never

    assert asyncio.run(scenario()) == (True, False)


def test_monitor_accepts_legal_machine_and_measures_restart_delay() -> None:
    m, ref = LifecycleMonitor(), FakeRef(1, "a")
    path = [
        S.UNINITIALIZED,
        S.STARTING,
        S.RUNNING,
        S.FAILED,
        S.RECOVERING,
        S.RUNNING,
        S.STOPPING,
        S.STOPPED,
    ]
    for old, new in zip(path, path[1:], strict=False):
        m.record_transition(ref, old, new, "test")
    assert m.verify_transitions() == []
    assert m.current_state(ref) == "STOPPED"
    assert m.contains_path(ref, ["FAILED", "RECOVERING", "RUNNING"])
    assert len(m.restart_delays(ref)) == 1 and m.restart_delays(ref)[0] >= 0
    assert m.summary()["FAILED->RECOVERING"] == 1


def test_monitor_flags_illegal_and_inconsistent_transitions() -> None:
    m, ref = LifecycleMonitor(), FakeRef(2, "b")
    m.record_transition(ref, S.UNINITIALIZED, S.RUNNING, "skipped STARTING")
    m.record_transition(ref, S.STOPPED, S.RUNNING, "from the dead")
    problems = m.verify_transitions(ref)
    assert any("illegal UNINITIALIZED->RUNNING" in p for p in problems)
    assert any("while in RUNNING" in p for p in problems)
    assert any("illegal STOPPED->RUNNING" in p for p in problems)


def test_monitor_wait_gives_up_on_terminal_state() -> None:
    m, ref = LifecycleMonitor(), FakeRef(3)
    m.record_transition(ref, S.RUNNING, S.STOPPED, "gone")

    async def scenario() -> bool:
        return await m.wait_for_state(ref, "RUNNING", timeout_s=5.0, occurrences=1)

    assert asyncio.run(asyncio.wait_for(scenario(), 1.0)) is False
