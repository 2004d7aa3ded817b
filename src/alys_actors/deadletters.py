"""The dead-letter sink: where every message that will never be handled is counted.

A message lost silently is the bug an actor harness hunts for, so every drop, rejection and
message left to a stopped actor is recorded here with its reason and made observable.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .mailbox import Priority

if TYPE_CHECKING:
    from .ref import ActorRef

log = logging.getLogger("alys_actors")


@dataclass(frozen=True)
class DeadLetter:
    msg: Any
    target: ActorRef | None
    reason: str
    priority: Priority


class DeadLetters:
    """Counts by reason, keeps the most recent letters, and notifies subscribers."""

    def __init__(self, keep: int = 1000) -> None:
        self.count = 0
        self.by_reason: dict[str, int] = {}
        self._recent: deque[DeadLetter] = deque(maxlen=keep)
        self._subscribers: list[Callable[[DeadLetter], None]] = []

    @property
    def recent(self) -> list[DeadLetter]:
        return list(self._recent)

    def subscribe(self, cb: Callable[[DeadLetter], None]) -> None:
        self._subscribers.append(cb)

    def unsubscribe(self, cb: Callable[[DeadLetter], None]) -> None:
        self._subscribers.remove(cb)

    def publish(
        self, msg: Any, target: ActorRef | None, reason: str, priority: Priority = Priority.NORMAL
    ) -> None:
        self.count += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        letter = DeadLetter(msg, target, reason, Priority(priority))
        self._recent.append(letter)
        for cb in list(self._subscribers):
            try:
                cb(letter)
            except Exception:  # a broken subscriber must not turn a drop into a crash
                log.exception("dead-letter subscriber %r failed", cb)
