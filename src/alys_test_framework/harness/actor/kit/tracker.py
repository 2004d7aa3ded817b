"""MessageTracker: what actors actually received and processed, as reported by the runtime.

It is installed as the runtime's message observer (``Observers(messages=tracker.track_message)``),
so every ordering or loss verdict is computed from the messages the runtime handed to actors,
never from the harness's own record of what it sent. Only :class:`Probe` messages are keyed;
anything else is counted but cannot take part in ordering checks.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

EVENTS = ("enqueued", "dequeued", "processed")


@dataclass(frozen=True)
class Probe:
    """A test message that carries its own identity: who sent it and its position for that sender."""

    sender: str
    seq: int
    body: Any = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.sender, self.seq)


@dataclass(frozen=True)
class Tracked:
    event: str
    actor: int
    actor_name: str
    key: Any
    priority: int
    t: float
    msg: Any = field(repr=False, compare=False, default=None)


@dataclass
class OrderingCheck:
    """Outcome of comparing an actor's observed message order to the expected order."""

    ok: bool
    observed: int
    expected: int
    detail: str = ""


def _actor_id(ref: Any) -> int:
    return ref if isinstance(ref, int) else int(ref.id)


class MessageTracker:
    """Per-actor log of hook events with ordering, loss and duplicate checks.

    ``sample_every`` keeps a small sample of message events for the run's event log without
    turning the log into a copy of the traffic.
    """

    def __init__(
        self,
        key: Callable[[Any], Hashable | None] | None = None,
        keep_messages: bool = False,
    ) -> None:
        self._key = key or (lambda m: m.key if isinstance(m, Probe) else None)
        self._keep = keep_messages
        self._log: dict[str, dict[int, list[Tracked]]] = {e: defaultdict(list) for e in EVENTS}
        self._counts: dict[str, int] = dict.fromkeys(EVENTS, 0)
        self._expected: dict[int, list[Hashable]] = {}
        self._names: dict[int, str] = {}
        self._changed = asyncio.Event()

    # -- feeding (runtime hook signature) ----------------------------------------------
    def track_message(self, event: str, ref: Any, msg: Any, priority: Any = 2) -> None:
        """Hook callback ``(event, ref, msg, priority)``; must stay cheap: it runs per message."""
        if event not in self._log:
            return
        aid = ref.id
        if aid not in self._names:
            self._names[aid] = ref.name or f"actor-{aid}"
        self._log[event][aid].append(
            Tracked(
                event,
                aid,
                self._names[aid],
                self._key(msg),
                int(priority),
                time.perf_counter(),
                msg if self._keep else None,
            )
        )
        self._counts[event] += 1
        self._changed.set()

    # -- queries -------------------------------------------------------------------------
    def message_count(self, actor: Any = None, event: str = "processed") -> int:
        if actor is None:
            return self._counts[event]
        return len(self._log[event].get(_actor_id(actor), ()))

    def events(self, actor: Any = None, event: str = "dequeued") -> list[Tracked]:
        if actor is None:
            return sorted((t for lst in self._log[event].values() for t in lst), key=lambda t: t.t)
        return list(self._log[event].get(_actor_id(actor), ()))

    def keys(self, actor: Any = None, event: str = "dequeued") -> list[Any]:
        return [t.key for t in self.events(actor, event) if t.key is not None]

    def per_actor_counts(self, event: str = "processed") -> dict[int, int]:
        return {aid: len(lst) for aid, lst in self._log[event].items()}

    def name_of(self, actor_id: int) -> str:
        return self._names.get(actor_id, f"actor-{actor_id}")

    # -- ordering ------------------------------------------------------------------------
    def set_expected_ordering(self, actor: Any, keys: Iterable[Hashable]) -> None:
        self._expected[_actor_id(actor)] = list(keys)

    def verify_ordering(self, actor: Any, event: str = "dequeued") -> OrderingCheck:
        """Compare the keys the actor actually got, in order, with the expected sequence."""
        aid = _actor_id(actor)
        expected = self._expected.get(aid)
        if expected is None:
            raise KeyError(f"no expected ordering set for {self.name_of(aid)}")
        observed = self.keys(aid, event)
        for i, (got, want) in enumerate(zip(observed, expected, strict=False)):
            if got != want:
                return OrderingCheck(
                    False,
                    len(observed),
                    len(expected),
                    f"{self.name_of(aid)}: position {i} got {got!r}, expected {want!r}",
                )
        if len(observed) != len(expected):
            return OrderingCheck(
                False,
                len(observed),
                len(expected),
                f"{self.name_of(aid)}: {len(observed)} messages {event}, expected {len(expected)}",
            )
        return OrderingCheck(True, len(observed), len(expected))

    def per_sender_violations(self, actor: Any = None, event: str = "dequeued") -> list[str]:
        """Per sender, sequence numbers must arrive increasing: FIFO per sender-receiver pair."""
        actors = [_actor_id(actor)] if actor is not None else list(self._log[event])
        out: list[str] = []
        for aid in actors:
            last: dict[str, int] = {}
            for t in self._log[event].get(aid, ()):
                if not isinstance(t.key, tuple):
                    continue
                sender, seq = t.key
                prev = last.get(sender)
                if prev is not None and seq <= prev:
                    out.append(f"{self.name_of(aid)}: from {sender} seq {seq} after {prev}")
                last[sender] = seq
        return out

    def loss_and_duplicates(
        self, expected: Iterable[Hashable], event: str = "processed"
    ) -> tuple[list[Any], list[Any]]:
        """(missing, duplicated) keys over all actors: what was sent but never got through."""
        seen: dict[Hashable, int] = defaultdict(int)
        for lst in self._log[event].values():
            for t in lst:
                if t.key is not None:
                    seen[t.key] += 1
        missing = [k for k in expected if seen.get(k, 0) == 0]
        dups = [k for k, n in seen.items() if n > 1]
        return missing, dups

    def max_in_flight(self, actor: Any) -> int:
        """Largest enqueued-minus-dequeued count seen: the actual mailbox occupancy bound."""
        aid = _actor_id(actor)
        marks = [(t.t, 1) for t in self._log["enqueued"].get(aid, ())]
        marks += [(t.t, -1) for t in self._log["dequeued"].get(aid, ())]
        marks.sort(key=lambda m: (m[0], m[1]))
        depth = peak = 0
        for _, d in marks:
            depth += d
            peak = max(peak, depth)
        return peak

    def latencies(self, actor: Any = None) -> list[float]:
        """Enqueue-to-processed seconds per keyed message (both ends measured by hooks)."""
        start: dict[tuple[int, Hashable], float] = {}
        for aid, lst in self._log["enqueued"].items():
            if actor is None or aid == _actor_id(actor):
                for t in lst:
                    start.setdefault((aid, t.key), t.t)
        out = []
        for aid, lst in self._log["processed"].items():
            if actor is None or aid == _actor_id(actor):
                for t in lst:
                    t0 = start.get((aid, t.key))
                    if t0 is not None and t.key is not None:
                        out.append(t.t - t0)
        return out

    # -- waiting ---------------------------------------------------------------------------
    def idle(self, refs: Iterable[Any]) -> bool:
        """Nothing queued and no handler running for any of ``refs``: no more progress can come."""
        return all(
            r.mailbox_depth == 0
            and self.message_count(r, "dequeued") == self.message_count(r, "processed")
            for r in refs
        )

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout_s: float,
        idle_refs: Iterable[Any] | None = None,
    ) -> bool:
        """Wait for a condition on the tracked messages; the condition, not the wait, is the check.

        With ``idle_refs`` (callers whose senders are done) the wait ends early once those
        actors are idle twice in a row: the condition can then no longer become true.
        """
        refs = list(idle_refs) if idle_refs is not None else None
        deadline = time.monotonic() + timeout_s
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if refs is not None and self.idle(refs):
                for _ in range(20):
                    await asyncio.sleep(0)
                if self.idle(refs) and not predicate():
                    return False
                continue
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                pass
        return True

    async def wait_for_count(
        self,
        count: int,
        timeout_s: float,
        actor: Any = None,
        event: str = "processed",
        idle_refs: Iterable[Any] | None = None,
    ) -> bool:
        return await self.wait_until(
            lambda: self.message_count(actor, event) >= count, timeout_s, idle_refs
        )

    def reset(self) -> None:
        for e in EVENTS:
            self._log[e].clear()
            self._counts[e] = 0
        self._expected.clear()
