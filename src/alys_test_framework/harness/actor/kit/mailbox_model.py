"""The documented mailbox, as a pure model the ordering properties compare a runtime with.

Rules (docs/ACTORS_API.md and the semantics alys_actors documents for what the contract leaves
open), for a receiver that takes nothing while the burst arrives:
1. Delivery: most urgent priority first (CRITICAL < HIGH < NORMAL < LOW), FIFO within one.
2. Room: a message is queued while fewer than ``capacity`` are queued.
3. Full, by policy: BACKPRESSURE — a non-waiting send fails (MailboxFull); REJECT — the send
   fails (MailboxFull); DROP_NEWEST — the arriving message is dropped (tell returns False);
   DROP_OLDEST — the oldest message of the least urgent level present is evicted if that level
   is not more urgent than the arriving one, else the arriving one is dropped;
   DROP_LOWEST_PRIORITY — the newest message of the least urgent level present is evicted if it
   is strictly less urgent than the arriving one, else the arriving one is dropped.
4. Never is a message evicted for a less urgent one; every message not delivered — evicted,
   dropped or refused — is a dead letter (reasons dropped_*, rejected).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ....targets.actor_runtime import Overflow, Priority

ACCEPTED, DROPPED, REFUSED = "accepted", "dropped", "refused"


@dataclass
class Prediction:
    outcomes: list[str] = field(default_factory=list)  # per sent message, in send order
    evicted: list[Hashable] = field(default_factory=list)  # keys, in eviction order
    delivered: list[Hashable] = field(default_factory=list)  # keys, in delivery order


def predict(
    capacity: int, overflow: Overflow, burst: Sequence[tuple[Hashable, Priority]]
) -> Prediction:
    queues: dict[Priority, deque[Hashable]] = {p: deque() for p in Priority}
    out = Prediction()
    size = 0
    for key, prio in burst:
        if size < capacity:
            queues[prio].append(key)
            size += 1
            out.outcomes.append(ACCEPTED)
            continue
        if overflow in (Overflow.BACKPRESSURE, Overflow.REJECT):
            out.outcomes.append(REFUSED)
            continue
        if overflow is Overflow.DROP_NEWEST:
            out.outcomes.append(DROPPED)
            continue
        lowest = max(p for p in Priority if queues[p])
        evicts = lowest >= prio if overflow is Overflow.DROP_OLDEST else lowest > prio
        if not evicts:
            out.outcomes.append(DROPPED)
            continue
        q = queues[lowest]
        out.evicted.append(q.popleft() if overflow is Overflow.DROP_OLDEST else q.pop())
        queues[prio].append(key)
        out.outcomes.append(ACCEPTED)
    for p in sorted(Priority):
        out.delivered.extend(queues[p])
    return out
