"""Small behaviours the harness spawns, and the control messages that drive them.

A ``Gate`` lets a test hold an actor inside a handler so that its mailbox fills to an exact,
known state (no timing involved); ``Crash``/``Poison`` inject failures and ``Block`` a hang.
``Instances`` counts how often the runtime actually built and started a behaviour, which is how
the harness sees that a restart really produced a fresh instance. Behaviours are plain
``Behaviour`` subclasses: the runtime under test decides when and where they run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ....targets.actor_runtime import ActorHandle, Behaviour, Terminated
from .tracker import Probe


class InjectedFailure(Exception):
    """The failure the harness injects; anything else reaching an observer is a runtime bug."""


@dataclass
class Gate:
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Block:
    """Hold the actor until the gate is released (the handler signals it has entered)."""

    gate: Gate


@dataclass(frozen=True)
class Crash:
    reason: str = "injected"


@dataclass(frozen=True)
class Poison:
    """A message that always makes the handler raise, however often it is delivered."""

    tag: str = "poison"


@dataclass(frozen=True)
class GetCount:
    pass


@dataclass(frozen=True)
class Fanout:
    """Ask every worker for ``body`` and return the sum: a fan-out / fan-in coordinator step."""

    workers: tuple[ActorHandle, ...]
    body: int
    timeout_s: float


@dataclass
class Instances:
    """Per-name counts of constructions and on_start/on_stop calls, shared with the factories."""

    built: dict[str, int] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    stopped: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # every construction, in the order it happened

    def factory(self, name: str, **kwargs: Any) -> Callable[[], Worker]:
        def make() -> Worker:
            self.built[name] = self.built.get(name, 0) + 1
            self.order.append(name)
            return Worker(name=name, instances=self, **kwargs)

        return make


class Worker(Behaviour):
    """General-purpose test behaviour.

    Probe -> counts it, optionally forwards a transformed probe to ``forward_to`` and returns
    ``transform(body)``. ``Block`` parks it on a gate; ``Crash``/``Poison`` raise.
    """

    def __init__(
        self,
        name: str = "worker",
        instances: Instances | None = None,
        forward_to: ActorHandle | None = None,
        transform: Callable[[Any], Any] | None = None,
        reply_probe: bool = False,
    ) -> None:
        self.label = name
        self.instances = instances
        self.forward_to = forward_to
        self.transform = transform
        self.reply_probe = reply_probe
        self.count = 0

    async def on_start(self) -> None:
        if self.instances is not None:
            self.instances.started[self.label] = self.instances.started.get(self.label, 0) + 1

    async def on_stop(self) -> None:
        if self.instances is not None:
            self.instances.stopped[self.label] = self.instances.stopped.get(self.label, 0) + 1

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, Probe):
            return await self._probe(msg)
        if isinstance(msg, Block):
            msg.gate.entered.set()
            await msg.gate.release.wait()
            return "released"
        if isinstance(msg, Crash):
            raise InjectedFailure(msg.reason)
        if isinstance(msg, Poison):
            raise InjectedFailure(f"poison message {msg.tag}")
        if isinstance(msg, GetCount):
            return self.count
        if isinstance(msg, Fanout):
            replies = await asyncio.gather(
                *(
                    w.ask(Probe(self.label, i, msg.body), timeout_s=msg.timeout_s)
                    for i, w in enumerate(msg.workers)
                )
            )
            return sum(replies)
        raise TypeError(f"{self.label} has no handler for {type(msg).__name__}")

    async def _probe(self, msg: Probe) -> Any:
        self.count += 1
        out = self.transform(msg.body) if self.transform is not None else msg.body
        if self.forward_to is not None:
            await self.forward_to.tell(Probe(self.label, msg.seq, out))
        return Probe(self.label, msg.seq, out) if self.reply_probe else out


class Watcher(Behaviour):
    """Collects Terminated notices so the harness can see the registry's watch really fired."""

    def __init__(self, sink: list[Terminated]) -> None:
        self.sink = sink

    async def receive(self, msg: Any) -> None:
        if isinstance(msg, Terminated):
            self.sink.append(msg)


class Switch(Behaviour):
    """Conditional routing step: even bodies go one way, odd bodies the other."""

    def __init__(self, even: ActorHandle, odd: ActorHandle) -> None:
        self.even = even
        self.odd = odd

    async def receive(self, msg: Any) -> str:
        if not isinstance(msg, Probe):
            raise TypeError(f"switch has no handler for {type(msg).__name__}")
        branch = self.even if msg.body % 2 == 0 else self.odd
        await branch.tell(Probe("switch", msg.seq, msg.body))
        return "even" if branch is self.even else "odd"
