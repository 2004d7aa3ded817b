"""What a child tells its supervisor, and the kinds of children.

Kept apart from supervision.py so that the message loop (cell.py) can report a failure or an
exit without importing the supervisor machinery, which imports the refs built on the cell.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ref import ActorRef


class ChildKind(str, Enum):
    PERMANENT = "permanent"  # restarted after failure and after a normal exit
    TRANSIENT = "transient"  # restarted after failure only
    TEMPORARY = "temporary"  # never restarted


class ChildFailed:
    __slots__ = ("ref", "error", "incarnation")

    def __init__(self, ref: ActorRef, error: BaseException, incarnation: int) -> None:
        self.ref, self.error, self.incarnation = ref, error, incarnation


class ChildExited:
    __slots__ = ("ref", "incarnation")

    def __init__(self, ref: ActorRef, incarnation: int) -> None:
        self.ref, self.incarnation = ref, incarnation
