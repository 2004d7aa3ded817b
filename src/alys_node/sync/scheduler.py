"""Range download scheduler (sans-I/O state machine).

Splits [local head + 1, best peer head] into ranges, hands them to peers in parallel and
re-assigns a range when its peer stalls, dies, or serves an invalid range. Time is an argument
(``now``), so tests drive it with virtual time. The consumer reports progress back:
``on_response`` (data arrived), ``on_invalid`` (validation failed), ``on_committed`` (durable).

Rules:
1. The work is heights committed + 1 .. target, the highest head any peer claims; sync is on
   while target > committed.
2. Ranges are ``range_size`` blocks, smaller for a short sync (at least MIN_RANGE) so the first
   peer's pipeline cannot swallow the whole chain; nothing is asked more than ``window`` blocks
   past the committed head, which bounds memory.
3. A range goes to a peer whose head covers its start and has fewer than ``per_peer`` requests
   in flight: the least loaded, preferring peers that have not failed this range, ties in turn.
4. Ranges to download again go before new ones, lowest start first.
5. A request unanswered by its deadline (stall_timeout x the peer's patience) is Stalled: it is
   re-assigned, avoiding that peer, and the peer's patience doubles (at most 8x). A reply resets
   the patience and restarts the deadlines of the peer's other requests from ``now``.
6. A reply with fewer blocks than asked re-assigns the rest; an empty one also lowers the peer's
   claimed head below the range (it cannot serve it).
7. A reply from a peer the range was taken from is ignored.
8. An invalid range is downloaded again, avoiding its sender.
9. A departed peer's ranges in flight are re-assigned.
10. Ranges at or below the committed head are forgotten, whatever their state.
11. Seeded bug ``no-range-reassign`` (``reassign=False``): rules 5 and 9 do not re-assign: a
    stalled range is asked of the same peer again, forever; a departed peer's ranges never return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_RANGE = 16


@dataclass(frozen=True)
class Request:
    peer: str
    start: int
    count: int


@dataclass(frozen=True)
class Stalled:
    """The peer did not answer in time; the adapter cancels the request and penalises it."""

    peer: str
    start: int


Action = Request | Stalled


@dataclass
class _Assignment:
    peer: str
    count: int
    deadline: float


@dataclass
class _Peer:
    head: int
    inflight: int = 0
    patience: float = 1.0  # stall-timeout multiplier: doubles per stall, reset by a reply


@dataclass
class RangeScheduler:
    range_size: int = 128
    per_peer: int = 4
    window: int = 4096
    stall_timeout: float = 5.0
    reassign: bool = True  # False = the no-range-reassign seeded bug
    single_source: bool = False  # True = the single-source-sync seeded bug
    committed: int = 0
    peers: dict[str, _Peer] = field(default_factory=dict)
    _next: int = 1  # first height never assigned
    _retry: dict[int, int] = field(default_factory=dict)  # start -> count, to (re)assign
    _avoid: dict[int, set[str]] = field(default_factory=dict)  # start -> peers that failed it
    _inflight: dict[int, _Assignment] = field(default_factory=dict)
    _received: dict[int, int] = field(default_factory=dict)  # start -> count, awaiting commit
    _rr: int = 0

    def __post_init__(self) -> None:
        self._next = self.committed + 1

    # -- inputs ------------------------------------------------------------------------------
    @property
    def target(self) -> int:
        return max((p.head for p in self.peers.values()), default=0)

    @property
    def syncing(self) -> bool:
        return self.target > self.committed

    def add_peer(self, peer: str, head: int) -> None:
        p = self.peers.get(peer)
        if p is None:
            self.peers[peer] = _Peer(head)
        else:
            p.head = max(p.head, head)

    def remove_peer(self, peer: str) -> None:
        self.peers.pop(peer, None)
        for start, a in list(self._inflight.items()):
            if a.peer == peer and self.reassign:
                del self._inflight[start]
                self._retry[start] = a.count

    def on_response(self, peer: str, start: int, count: int, now: float | None = None) -> None:
        """``count`` blocks from ``start`` arrived (possibly fewer than asked).

        A reply proves the peer is alive and working through its queue in order, so the
        deadlines of its other requests restart from ``now``: on a slow link the 4th queued
        request is not "stalled" just because three others are ahead of it (a fixed deadline
        per request turns a slow link into a retransmission storm that never finishes)."""
        a = self._inflight.get(start)
        if a is None or a.peer != peer:
            return  # late reply from a peer the range was taken away from
        del self._inflight[start]
        if p := self.peers.get(peer):
            p.inflight = max(0, p.inflight - 1)
            p.patience = 1.0
            if now is not None:
                for other in self._inflight.values():
                    if other.peer == peer:
                        other.deadline = max(other.deadline, now + self.stall_timeout)
        count = min(count, a.count)
        if count > 0:
            self._received[start] = count
        if count < a.count:
            self._retry[start + count] = a.count - count
            if count == 0:
                self._avoid.setdefault(start, set()).add(peer)
                if p is not None:  # it claimed a head it cannot serve
                    p.head = min(p.head, start - 1)

    def on_invalid(self, peer: str, start: int) -> None:
        """The range failed validation: download it again, from someone else if possible."""
        count = self._received.pop(start, None)
        if count is None:
            a = self._inflight.pop(start, None)
            if a is None:
                return
            count = a.count
        self._retry[start] = count
        self._avoid.setdefault(start, set()).add(peer)

    def on_committed(self, height: int) -> None:
        self.committed = max(self.committed, height)
        for start in [s for s, c in self._received.items() if s + c - 1 <= self.committed]:
            del self._received[start]
            self._avoid.pop(start, None)
        for start in [s for s, c in self._retry.items() if s + c - 1 <= self.committed]:
            del self._retry[start]
        if self._next <= self.committed:
            self._next = self.committed + 1

    # -- outputs -----------------------------------------------------------------------------
    def poll(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for start, a in list(self._inflight.items()):
            if a.deadline <= now:
                actions.append(Stalled(a.peer, start))
                if p := self.peers.get(a.peer):
                    p.inflight = max(0, p.inflight - 1)
                    p.patience = min(8.0, p.patience * 2)  # slow, not dead? wait longer next time
                if self.reassign:
                    del self._inflight[start]
                    self._retry[start] = a.count
                    self._avoid.setdefault(start, set()).add(a.peer)
                elif a.peer in self.peers:  # bug: ask the same peer again, forever
                    a.deadline = now + self.stall_timeout * self.peers[a.peer].patience
                    self.peers[a.peer].inflight += 1
                    actions.append(Request(a.peer, start, a.count))
        while True:
            job = self._next_job()
            if job is None:
                break
            start, count = job
            peer = self._pick(start, count)
            if peer is None:
                break
            if start == self._next:
                self._next = start + count
            else:
                del self._retry[start]
            p = self.peers[peer]
            p.inflight += 1
            self._inflight[start] = _Assignment(peer, count, now + self.stall_timeout * p.patience)
            actions.append(Request(peer, start, count))
        return actions

    def _next_job(self) -> tuple[int, int] | None:
        if self._retry:
            start = min(self._retry)
            return start, self._retry[start]
        limit = min(self.target, self.committed + self.window)
        if self._next > limit:
            return None
        return self._next, min(self._size(), limit - self._next + 1)

    def _size(self) -> int:
        """Range size: ``range_size``, but smaller for a short sync, so that the first peer's
        pipeline (``per_peer`` ranges handed out the moment it connects) cannot swallow the
        whole chain before other peers finish their handshake."""
        remaining = self.target - self.committed
        share = -(-remaining // (4 * self.per_peer))  # ceil
        return min(self.range_size, max(MIN_RANGE, share))

    def _pick(self, start: int, count: int) -> str | None:
        avoid = self._avoid.get(start, set())
        cands = [k for k, p in self.peers.items() if p.head >= start and p.inflight < self.per_peer]
        if self.single_source:  # seeded bug: only ever the first peer
            cands = [k for k in cands if k == min(self.peers)]
        if not cands:
            return None
        fresh = [k for k in cands if k not in avoid] or cands
        low = min(self.peers[k].inflight for k in fresh)
        best = sorted(k for k in fresh if self.peers[k].inflight == low)
        self._rr += 1
        return best[self._rr % len(best)]

    def state_of(self, start: int) -> str:
        """Where the range at ``start`` is: inflight, received, retry, committed or unassigned."""
        if start <= self.committed:
            return "committed"
        if start in self._inflight:
            return "inflight"
        if start in self._received:
            return "received"
        if start in self._retry:
            return "retry"
        return "unassigned"

    def inflight(self) -> dict[int, tuple[str, int]]:
        return {s: (a.peer, a.count) for s, a in self._inflight.items()}
