"""Name and service-tag discovery, plus death watch.

Entries disappear automatically when an actor stops, so a lookup never hands out a dead ref, and
watchers learn about the death through an ordinary (critical-priority) Terminated message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ActorError, DuplicateName
from .lifecycle import LifecycleState
from .mailbox import Priority

if TYPE_CHECKING:
    from .ref import ActorRef


@dataclass(frozen=True)
class Terminated:
    """Sent to every watcher when the watched actor stops for good."""

    ref: ActorRef
    reason: str


class Registry:
    def __init__(self) -> None:
        self._names: dict[str, ActorRef] = {}
        self._services: dict[str, list[ActorRef]] = {}
        self._watchers: dict[int, list[ActorRef]] = {}
        self._keys: dict[int, tuple[set[str], set[str]]] = {}  # ref id -> (names, tags)

    def _keys_of(self, ref: ActorRef) -> tuple[set[str], set[str]]:
        keys = self._keys.get(ref.id)
        if keys is None:
            keys = self._keys[ref.id] = (set(), set())
        return keys

    def register(self, name: str, ref: ActorRef) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"actor names must be non-empty strings, got {name!r}")
        existing = self._names.get(name)
        if existing is not None and existing is not ref:
            raise DuplicateName(f"an actor named {name!r} is already registered ({existing!r})")
        if not ref.is_alive:
            raise ActorError(f"cannot register stopped actor {ref!r} as {name!r}")
        self._names[name] = ref
        self._keys_of(ref)[0].add(name)

    def unregister(self, name: str) -> None:
        ref = self._names.pop(name, None)
        if ref is not None:
            self._keys_of(ref)[0].discard(name)

    def register_service(self, tag: str, ref: ActorRef) -> None:
        refs = self._services.setdefault(tag, [])
        if ref not in refs:
            refs.append(ref)
        self._keys_of(ref)[1].add(tag)

    def lookup(self, name: str) -> ActorRef | None:
        return self._names.get(name)

    def lookup_service(self, tag: str) -> list[ActorRef]:
        return list(self._services.get(tag, ()))

    def names(self) -> list[str]:
        return list(self._names)

    def services(self) -> list[str]:
        return [t for t, refs in self._services.items() if refs]

    def watch(self, target: ActorRef, watcher: ActorRef) -> None:
        """watcher receives Terminated(target, reason) when target stops (at once if it has)."""
        if target.state is LifecycleState.STOPPED:
            self._deliver(watcher, Terminated(target, "already stopped"))
            return
        ws = self._watchers.setdefault(target.id, [])
        if watcher not in ws:
            ws.append(watcher)

    def unwatch(self, target: ActorRef, watcher: ActorRef) -> None:
        ws = self._watchers.get(target.id)
        if ws and watcher in ws:
            ws.remove(watcher)

    def _deliver(self, watcher: ActorRef, msg: Terminated) -> None:
        if watcher.is_alive:
            try:
                watcher.tell_nowait(msg, Priority.CRITICAL)
            except ActorError:
                pass  # already counted as a dead letter by tell_nowait

    def _terminated(self, ref: ActorRef, reason: str) -> None:
        """Called by the runtime once ref is STOPPED: deregister and notify watchers."""
        keys = self._keys.pop(ref.id, None)
        ws = self._watchers.pop(ref.id, None)
        if keys is None and ws is None:
            return  # an anonymous, unwatched actor (most of them): nothing to deregister
        names, tags = keys if keys is not None else ((), ())
        for name in names:
            if self._names.get(name) is ref:
                del self._names[name]
        for tag in tags:
            refs = self._services.get(tag)
            if refs and ref in refs:
                refs.remove(ref)
                if not refs:
                    del self._services[tag]
        for w in ws or ():
            self._deliver(w, Terminated(ref, reason))
