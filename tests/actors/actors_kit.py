"""Shared helpers for the alys_actors tests (unique module name: pytest imports by basename)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from alys_actors import Actor, ActorRef, ActorSystem, LifecycleState, handler
from alys_test_framework.waiting import wait_until as _wait_until


def run(coro: Awaitable[Any], timeout: float = 30.0) -> Any:
    """Run a coroutine to completion; a hang becomes a clear failure, not a stuck suite."""

    async def guarded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


async def wait_until(pred: Callable[[], bool], timeout_s: float = 3.0, what: str = "") -> None:
    """The framework's wait_until with a short poll: these conditions change within microseconds."""
    await _wait_until(pred, timeout_s, what or repr(pred), poll_s=0.002)


class Get:
    """Ask for the recorder's log."""


class Fail:
    def __init__(self, tag: str = "boom") -> None:
        self.tag = tag


class Block:
    """Handler awaits the given event (to hold an actor busy deterministically)."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event


class Recorder(Actor):
    """Logs every message it handles; Get returns the log; Fail raises."""

    instances: list[Recorder] = []

    def __init__(self) -> None:
        self.log: list[Any] = []
        self.started = 0
        self.stopped = 0
        Recorder.instances.append(self)

    async def on_start(self) -> None:
        self.started += 1

    async def on_stop(self) -> None:
        self.stopped += 1

    @handler(Get)
    def on_get(self, _: Get) -> list[Any]:
        return list(self.log)

    @handler(Fail)
    def on_fail(self, m: Fail) -> None:
        raise RuntimeError(m.tag)

    @handler(Block)
    async def on_block(self, m: Block) -> str:
        await m.event.wait()
        return "unblocked"

    @handler(object)
    async def on_any(self, m: Any) -> Any:
        self.log.append(m)
        return m


class Transitions:
    """Lifecycle observer that records (name, old, new, reason)."""

    def __init__(self, system: ActorSystem) -> None:
        self.events: list[tuple[str | None, LifecycleState, LifecycleState, str]] = []
        system.add_lifecycle_observer(self)

    def __call__(self, ref: ActorRef, old: LifecycleState, new: LifecycleState, why: str) -> None:
        self.events.append((ref.name, old, new, why))

    def of(self, name: str) -> list[tuple[LifecycleState, LifecycleState]]:
        return [(o, n) for who, o, n, _ in self.events if who == name]

    def pairs(self) -> set[tuple[LifecycleState, LifecycleState]]:
        return {(o, n) for _, o, n, _ in self.events}
