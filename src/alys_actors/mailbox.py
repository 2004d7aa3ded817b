"""Bounded priority mailboxes with overflow policies.

One deque per priority instead of asyncio.PriorityQueue: FIFO within a priority comes for free,
put/get are O(1), and the consumer is woken through a single future instead of a Condition, which
keeps the hot path close to a bare asyncio.Queue. The runtime only calls put_nowait, put,
get_nowait, wait_nonempty, wake, close and drain, so a deliberately broken mailbox for tests is a
small subclass overriding one of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from .errors import ActorStopped


class Priority(IntEnum):
    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


class OverflowPolicy(str, Enum):
    BACKPRESSURE = "backpressure"
    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"
    DROP_LOWEST_PRIORITY = "drop_lowest_priority"
    REJECT = "reject"


@dataclass(frozen=True)
class MailboxConfig:
    """Capacity and overflow policy of one actor's mailbox (validated here, at the call site)."""

    capacity: int = 1000
    policy: OverflowPolicy = OverflowPolicy.BACKPRESSURE

    def __post_init__(self) -> None:
        cap = self.capacity
        if isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0:
            raise ValueError(f"mailbox capacity must be a positive integer, got {cap!r}")
        try:
            policy = OverflowPolicy(self.policy)
        except ValueError:
            names = ", ".join(p.value for p in OverflowPolicy)
            raise ValueError(
                f"unknown mailbox overflow policy {self.policy!r}; expected one of: {names}"
            ) from None
        object.__setattr__(self, "policy", policy)


class PutResult:
    """Outcome of a put: whether THIS item was accepted, plus any item evicted to make room.

    reason is the dead-letter reason of the item that did not make it (the put item itself when
    accepted is False, else the evicted item), or None when nothing was lost.
    """

    __slots__ = ("accepted", "reason", "evicted", "evicted_priority")

    def __init__(
        self,
        accepted: bool,
        reason: str | None = None,
        evicted: Any = None,
        evicted_priority: Priority | None = None,
    ) -> None:
        self.accepted = accepted
        self.reason = reason
        self.evicted = evicted
        self.evicted_priority = evicted_priority

    def __repr__(self) -> str:
        return f"PutResult(accepted={self.accepted}, reason={self.reason!r})"


ACCEPTED = PutResult(True)
FULL = PutResult(False, "full")  # backpressure mailbox full on a non-waiting put
REJECTED = PutResult(False, "rejected")
DROPPED_NEWEST = PutResult(False, "dropped_newest")
DROPPED_LOWEST = PutResult(False, "dropped_lowest_priority")
DROPPED_OLDEST = PutResult(False, "dropped_oldest")  # incoming dropped: all queued more urgent
EMPTY: Any = object()  # returned by get_nowait when there is nothing to take
_PRIOS = (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW)


class Mailbox:
    """A bounded mailbox: four FIFO deques drained in priority order."""

    def __init__(self, config: MailboxConfig | None = None) -> None:
        config = config or MailboxConfig()
        self.config = config
        self.capacity: int = config.capacity
        self.policy: OverflowPolicy = config.policy
        self._queues: tuple[deque, deque, deque, deque] = (deque(), deque(), deque(), deque())
        self._size = 0
        self._getter: asyncio.Future | None = None
        self._putters: deque[asyncio.Future] = deque()
        self.closed = False

    # -- introspection -------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._size

    def depth_by_priority(self) -> dict[Priority, int]:
        return {p: len(self._queues[p]) for p in _PRIOS}

    # -- producer side -------------------------------------------------------------------
    def put_nowait(self, item: Any, priority: Priority = Priority.NORMAL) -> PutResult:
        """Enqueue without waiting, applying the overflow policy when full."""
        if self._size < self.capacity:
            self._queues[priority].append(item)
            self._size += 1
            g = self._getter
            if g is not None:
                self._getter = None
                if not g.done():
                    g.set_result(None)
            return ACCEPTED
        return self._overflow(item, priority)

    def _overflow(self, item: Any, priority: Priority) -> PutResult:
        policy = self.policy
        if policy is OverflowPolicy.BACKPRESSURE:
            return FULL
        if policy is OverflowPolicy.REJECT:
            return REJECTED
        if policy is OverflowPolicy.DROP_NEWEST:
            return DROPPED_NEWEST
        queues = self._queues
        if policy is OverflowPolicy.DROP_OLDEST:
            # the oldest message of the lowest level present, unless that level is more urgent
            # than the incoming message: then the incoming one is the least worth keeping
            for p in reversed(_PRIOS):
                if queues[p]:
                    if p >= priority:
                        evicted = queues[p].popleft()
                        queues[priority].append(item)
                        return PutResult(True, "dropped_oldest", evicted, p)
                    return DROPPED_OLDEST
        # DROP_LOWEST_PRIORITY: evict the newest message of the lowest level present if it is
        # strictly less important than the incoming one; otherwise the incoming one loses.
        for p in reversed(_PRIOS):
            if queues[p]:
                if p > priority:
                    evicted = queues[p].pop()
                    queues[priority].append(item)
                    return PutResult(True, "dropped_lowest_priority", evicted, p)
                break
        return DROPPED_LOWEST

    async def put(self, item: Any, priority: Priority = Priority.NORMAL) -> PutResult:
        """Enqueue; under BACKPRESSURE wait for room instead of failing."""
        if self.policy is OverflowPolicy.BACKPRESSURE:
            while self._size >= self.capacity:
                if self.closed:
                    raise ActorStopped("mailbox closed while waiting for room")
                fut = asyncio.get_running_loop().create_future()
                self._putters.append(fut)
                try:
                    await fut
                except BaseException:
                    fut.cancel()
                    try:
                        self._putters.remove(fut)
                    except ValueError:
                        pass
                    # pass the wake-up on so a cancelled waiter never strands room
                    if self._size < self.capacity:
                        self._wake_putter()
                    raise
            if self.closed:
                raise ActorStopped("mailbox closed")
        return self.put_nowait(item, priority)

    def _wake_putter(self) -> None:
        putters = self._putters
        while putters:
            fut = putters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    # -- consumer side -------------------------------------------------------------------
    def get_nowait(self) -> Any:
        """Take the oldest item of the most urgent non-empty priority, or EMPTY."""
        if not self._size:
            return EMPTY
        q = self._queues
        for dq in q:
            if dq:
                item = dq.popleft()
                break
        else:  # pragma: no cover - size and queues disagree
            return EMPTY
        self._size -= 1
        if self._putters:
            self._wake_putter()
        return item

    async def wait_nonempty(self) -> None:
        """Sleep until something is put (or wake() is called)."""
        if self._size:
            return
        fut = asyncio.get_running_loop().create_future()
        self._getter = fut
        try:
            await fut
        finally:
            if self._getter is fut:
                self._getter = None

    async def get(self) -> Any:
        while True:
            item = self.get_nowait()
            if item is not EMPTY:
                return item
            await self.wait_nonempty()

    def wake(self) -> None:
        """Wake a consumer sleeping in wait_nonempty (used to deliver stop requests)."""
        g = self._getter
        if g is not None:
            self._getter = None
            if not g.done():
                g.set_result(None)

    def close(self) -> None:
        """Refuse further waiting puts; waiting producers get ActorStopped."""
        self.closed = True
        while self._putters:
            fut = self._putters.popleft()
            if not fut.done():
                fut.set_result(None)
        self.wake()

    def drain(self) -> list[tuple[Any, Priority]]:
        """Remove and return everything left, in delivery order (for dead-lettering at stop)."""
        out: list[tuple[Any, Priority]] = []
        for p in _PRIOS:
            dq = self._queues[p]
            out.extend((item, p) for item in dq)
            dq.clear()
        self._size = 0
        while self._putters:
            self._wake_putter()
        return out
