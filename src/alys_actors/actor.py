"""The Actor base class and the @handler decorator.

Handlers are found once per class (walking the MRO), and resolution per message type is cached
per instance, so dispatch costs one dict lookup on the hot path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import UnhandledMessage

if TYPE_CHECKING:
    from .ref import ActorRef
    from .system import ActorSystem

_F = TypeVar("_F", bound=Callable[..., Any])
_HANDLES = "__alys_handles__"


def handler(msg_type: type) -> Callable[[_F], _F]:
    """Mark a method (async or plain) as the handler of msg_type and its subclasses."""
    if not isinstance(msg_type, type):
        raise TypeError(f"@handler needs a message type, got {msg_type!r}")

    def mark(fn: _F) -> _F:
        types = getattr(fn, _HANDLES, ())
        setattr(fn, _HANDLES, (*types, msg_type))
        return fn

    return mark


def _class_handlers(cls: type) -> dict[type, str]:
    """msg_type -> method name for cls, subclasses overriding their bases."""
    cached = cls.__dict__.get("__alys_handler_map__")
    if cached is not None:
        return cached
    table: dict[type, str] = {}
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            for t in getattr(attr, _HANDLES, ()):
                table[t] = name
    cls.__alys_handler_map__ = table  # type: ignore[attr-defined]
    return table


class Actor:
    """Base class of every actor. Subclass, add @handler methods, override the hooks you need.

    ref and system are set by the runtime before on_start. A restart builds a fresh instance from
    the factory, so state never leaks from a failed incarnation into the next.
    """

    ref: ActorRef
    system: ActorSystem

    async def on_start(self) -> None:
        """Acquire resources; an exception here is a failure like any other."""

    async def on_stop(self) -> None:
        """Release resources; runs on graceful stop (not on kill)."""

    async def pre_restart(self, error: BaseException) -> None:
        """Called on the failed instance before it is replaced; default releases like on_stop."""
        await self.on_stop()

    async def post_restart(self, error: BaseException) -> None:
        """Called on the fresh instance; default acquires like on_start."""
        await self.on_start()

    async def receive(self, message: Any) -> Any:
        """Dispatch to the @handler for type(message) (MRO order). Override for custom routing."""
        fn, is_async = self._resolve(type(message))
        result = fn(message)
        if is_async:
            result = await result
        return result

    def stop_self(self) -> None:
        """Ask the runtime to stop this actor normally once the current message is done."""
        self.ref._request_self_stop()

    # -- internals ---------------------------------------------------------------------
    def _resolve(self, msg_type: type) -> tuple[Callable[[Any], Any], bool]:
        cache: dict[type, tuple[Callable[[Any], Any], bool]] = self.__dict__.setdefault(
            "_alys_dispatch", {}
        )
        hit = cache.get(msg_type)
        if hit is not None:
            return hit
        table = _class_handlers(type(self))
        for t in msg_type.__mro__:
            name = table.get(t)
            if name is not None:
                fn = getattr(self, name)
                hit = (fn, inspect.iscoroutinefunction(fn))
                cache[msg_type] = hit
                return hit
        raise UnhandledMessage(
            f"actor {type(self).__name__} has no handler for message type {msg_type.__name__}"
        )

    def _uses_default_receive(self) -> bool:
        return type(self).receive is Actor.receive
