"""Hypothesis properties of the runtimes, measured through the harness's MessageTracker.

Ordering, priority order and exact drop counts, over generated send plans, on alys_actors;
arrival order also on Pykka. The actor is parked on a gate while the plan is sent, so the
mailbox holds the whole plan at once. Runtimes are reached through the runtime protocol.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alys_test_framework.harness.actor.kit.behaviours import Block, Gate, Worker
from alys_test_framework.harness.actor.kit.session import ActorSession
from alys_test_framework.harness.actor.kit.tracker import MessageTracker, Probe
from alys_test_framework.targets.actor_runtime import (
    ActorRuntime,
    MailboxFull,
    MailboxSpec,
    Overflow,
    Priority,
    runtime_named,
)

# Derandomized so the suite replays; ACTOR_PROP_EXAMPLES=600 explores further (random search).
_EXAMPLES = int(os.environ.get("ACTOR_PROP_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize="ACTOR_PROP_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)
PRIO = st.sampled_from(list(Priority))


async def _held_run(mailbox: MailboxSpec | None, sends, runtime: str = "alys_actors"):
    """Park a fresh actor, apply ``sends(ref)`` (returns per-send results), release, drain."""
    rt: ActorRuntime = runtime_named(runtime)
    async with ActorSession(rt, 1) as s:
        ref = await s.system.spawn(Worker, name="rx", mailbox=mailbox)
        gate = Gate()
        await ref.tell(Block(gate))
        await asyncio.wait_for(gate.entered.wait(), 5)
        results = sends(ref)
        gate.release.set()
        await s.tracker.wait_until(lambda: s.tracker.idle([ref]), 5)
        return s, ref, results


@pytest.mark.parametrize("runtime", ["alys_actors", "pykka"])
@SETTINGS
@given(plan=st.lists(st.integers(0, 4), min_size=1, max_size=200))
def test_interleaved_senders_keep_per_sender_and_arrival_order(
    runtime: str, plan: list[int]
) -> None:
    seqs: dict[int, int] = {}
    keys = []
    for sender in plan:
        keys.append((f"s{sender}", seqs.get(sender, 0)))
        seqs[sender] = seqs.get(sender, 0) + 1

    def send(ref):
        for sender, seq in keys:
            ref.tell_nowait(Probe(sender, seq))

    mailbox = MailboxSpec(len(keys) + 1) if runtime == "alys_actors" else None
    s, ref, _ = asyncio.run(_held_run(mailbox, send, runtime))
    s.tracker.set_expected_ordering(ref, keys)
    assert s.tracker.verify_ordering(ref).ok
    assert s.tracker.per_sender_violations() == []


@SETTINGS
@given(prios=st.lists(PRIO, min_size=1, max_size=200))
def test_priority_order_is_a_stable_sort_of_arrival(prios: list[Priority]) -> None:
    keys = [("p", i) for i in range(len(prios))]

    def send(ref):
        for key, p in zip(keys, prios, strict=True):
            ref.tell_nowait(Probe(*key), priority=p)

    s, ref, _ = asyncio.run(_held_run(MailboxSpec(len(keys) + 1), send))
    expected = [k for _, k in sorted(zip(prios, keys, strict=True), key=lambda pk: pk[0])]
    s.tracker.set_expected_ordering(ref, expected)
    check = s.tracker.verify_ordering(ref)
    assert check.ok, check.detail


@SETTINGS
@given(
    capacity=st.integers(1, 24),
    prios=st.lists(PRIO, min_size=0, max_size=60),
    policy=st.sampled_from(
        [
            Overflow.DROP_NEWEST,
            Overflow.DROP_OLDEST,
            Overflow.DROP_LOWEST_PRIORITY,
            Overflow.REJECT,
        ]
    ),
)
def test_drop_counts_are_exact_and_conserve_messages(capacity, prios, policy) -> None:
    n = len(prios)

    def send(ref):
        out = []
        for i, p in enumerate(prios):
            try:
                out.append(ref.tell_nowait(Probe("d", i), priority=p))
            except MailboxFull:
                out.append(False)
        return out

    s, ref, accepted = asyncio.run(_held_run(MailboxSpec(capacity, policy), send))
    kept = [k[1] for k in s.tracker.keys(ref, "processed")]
    dead = [k[1] for k in s.dead_keys()]
    assert len(kept) == min(n, capacity)
    assert len(dead) == max(0, n - capacity)
    assert sorted(kept + dead) == list(range(n))
    assert ref.stats is not None and ref.stats.dropped == len(dead)
    if policy in (Overflow.DROP_NEWEST, Overflow.REJECT):
        assert sorted(kept) == list(range(min(n, capacity)))
        assert accepted.count(False) == len(dead)
    if policy is Overflow.DROP_LOWEST_PRIORITY and dead:
        assert max(prios[i] for i in kept) <= min(prios[i] for i in dead)
    if policy is Overflow.DROP_LOWEST_PRIORITY:
        assert {i for i, p in enumerate(prios) if p is Priority.CRITICAL} <= set(kept) or (
            prios.count(Priority.CRITICAL) > capacity
        )
    if policy is Overflow.DROP_OLDEST:
        for lvl in Priority:  # within a level, the survivors are the newest
            lvl_kept = [i for i in kept if prios[i] == lvl]
            assert not lvl_kept or all(d < min(lvl_kept) for d in dead if prios[d] == lvl)


def test_drop_oldest_never_evicts_critical_for_a_less_urgent_message() -> None:
    prios = [Priority.CRITICAL, Priority.HIGH]

    def send(ref):
        return [ref.tell_nowait(Probe("d", i), priority=p) for i, p in enumerate(prios)]

    s, ref, _ = asyncio.run(_held_run(MailboxSpec(1, Overflow.DROP_OLDEST), send))
    assert [k[1] for k in s.tracker.keys(ref, "processed")] == [0]


@settings(max_examples=100, deadline=None)
@given(perm=st.permutations(list(range(8))))
def test_tracker_ordering_check_fails_exactly_on_reordering(perm: list[int]) -> None:
    class Ref:
        id, name = 1, "rx"

    tracker = MessageTracker()
    tracker.set_expected_ordering(Ref, [("a", i) for i in range(8)])
    for i in perm:
        tracker.track_message("dequeued", Ref, Probe("a", i), 2)
    assert tracker.verify_ordering(1).ok == (list(perm) == list(range(8)))
