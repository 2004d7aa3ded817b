"""Actor messages, bursts and crash schedules, in the runtime protocol's own values.

A message is (sender, sequence number, priority): sequence numbers count per sender from 0 in
send order, so per-sender order is checkable from the messages alone. A burst is what lands in
a parked actor's mailbox at once; a supervision case is a tree shape plus the order in which
children crash. Shrinking goes towards fewer senders, shorter bursts, NORMAL priority, fewer
crashes and the first child, so a counterexample reads as the smallest story that breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from ..targets.actor_runtime.protocol import Overflow, Priority, Strategy

PRIORITIES = (Priority.NORMAL, Priority.LOW, Priority.HIGH, Priority.CRITICAL)  # shrink order


@dataclass(frozen=True)
class ActorMessage:
    sender: str
    seq: int
    priority: Priority = Priority.NORMAL

    @property
    def key(self) -> tuple[str, int]:
        return (self.sender, self.seq)

    def __repr__(self) -> str:
        return f"{self.sender}#{self.seq}:{self.priority.name}"


def priorities(allowed: tuple[Priority, ...] = PRIORITIES) -> st.SearchStrategy[Priority]:
    return st.sampled_from(allowed)


def senders(max_senders: int = 4) -> st.SearchStrategy[str]:
    return st.integers(0, max_senders - 1).map(lambda i: f"s{i}")


@st.composite
def message_bursts(
    draw: st.DrawFn,
    max_senders: int = 4,
    max_len: int = 40,
    min_len: int = 1,
    allowed: tuple[Priority, ...] = PRIORITIES,
) -> tuple[ActorMessage, ...]:
    """Interleaved messages of several senders, numbered per sender in send order."""
    picks = draw(st.lists(st.tuples(senders(max_senders), priorities(allowed)),
                          min_size=min_len, max_size=max_len))  # fmt: skip
    seqs: dict[str, int] = {}
    out = []
    for sender, prio in picks:
        seq = seqs.get(sender, 0)
        seqs[sender] = seq + 1
        out.append(ActorMessage(sender, seq, prio))
    return tuple(out)


@dataclass(frozen=True)
class MailboxBurst:
    capacity: int
    overflow: Overflow
    messages: tuple[ActorMessage, ...]

    def __repr__(self) -> str:
        return (
            f"MailboxBurst(capacity={self.capacity}, {self.overflow.value}, {list(self.messages)})"
        )


@st.composite
def mailbox_bursts(
    draw: st.DrawFn, overflows: tuple[Overflow, ...] = tuple(Overflow), max_capacity: int = 8
) -> MailboxBurst:
    """A bounded mailbox and a burst that usually overflows it."""
    cap = draw(st.integers(1, max_capacity))
    overflow = draw(st.sampled_from(overflows))
    msgs = draw(message_bursts(max_senders=2, max_len=cap * 3 + 2, min_len=1))
    return MailboxBurst(cap, overflow, msgs)


@dataclass(frozen=True)
class SupervisionCase:
    strategy: Strategy
    restart: str  # "always" | "never" | "exponential_backoff"
    max_restarts: int
    children: int
    crashes: tuple[int, ...]  # child index crashed, in order (each after the previous settles)

    def __repr__(self) -> str:
        return (f"SupervisionCase({self.strategy.value}, {self.restart}, max_restarts="
                f"{self.max_restarts}, children={self.children}, crashes={list(self.crashes)})")  # fmt: skip


@st.composite
def supervision_cases(
    draw: st.DrawFn,
    strategies: tuple[Strategy, ...] = tuple(Strategy),
    restarts: tuple[str, ...] = ("always", "never", "exponential_backoff"),
    max_children: int = 4,
    max_crashes: int = 5,
) -> SupervisionCase:
    n = draw(st.integers(1, max_children))
    return SupervisionCase(
        draw(st.sampled_from(strategies)),
        draw(st.sampled_from(restarts)),
        draw(st.integers(1, 3)),
        n,
        tuple(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=max_crashes))),
    )
