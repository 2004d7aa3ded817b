"""View: a value one actor owns and publishes, read by others on the same event loop.

The owner replaces the value only on the loop thread, after the work behind it is done (a head
is published once StorageActor made its blocks durable), so a reader never sees a value that a
worker thread is halfway through writing. Readers hold the View, not the owner.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class View(Generic[T]):
    def __init__(self, value: T) -> None:
        self._value = value

    @property
    def value(self) -> T:
        return self._value

    def publish(self, value: T) -> None:
        """Only the owning actor calls this."""
        self._value = value
