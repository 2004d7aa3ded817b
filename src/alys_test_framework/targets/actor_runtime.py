"""The narrow interface through which the actor harness reaches an actor runtime.

The harness never constructs runtime parts itself: it asks its target for a system (per seed),
and for the pluggable parts it uses (mailboxes, registry, routers, broadcast groups,
pipelines, supervisors). The default target is the real ``alys_actors`` runtime; a broken
target in the test suite overrides one factory (e.g. a mailbox that reorders) and the harness
must report the property that breaks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import alys_actors as aa


@runtime_checkable
class ActorRuntimeTarget(Protocol):
    """What the actor harness needs from a runtime under test."""

    name: str

    def create_system(
        self, seed: int, *, name: str = "harness", default_mailbox: aa.MailboxConfig | None = None
    ) -> aa.ActorSystem: ...

    def make_router(
        self,
        refs: Sequence[aa.ActorRef],
        strategy: Literal["round_robin", "least_loaded"],
        rng: random.Random | None = None,
    ) -> aa.Router: ...

    def make_broadcast(self, refs: Sequence[aa.ActorRef]) -> aa.BroadcastGroup: ...

    def make_pipeline(self, stages: Sequence[aa.ActorRef]) -> aa.Pipeline: ...

    async def spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kwargs: Any
    ) -> aa.SupervisorRef: ...


class RealActorRuntime:
    """The ``alys_actors`` runtime as shipped; subclasses swap one part to break one property."""

    name = "alys_actors"

    # -- pluggable parts (override in broken targets) -------------------------------------
    def mailbox_factory(self) -> Callable[[aa.MailboxConfig], aa.Mailbox] | None:
        """None = the runtime's own mailbox."""
        return None

    def make_registry(self) -> aa.Registry | None:
        """None = the runtime's own registry."""
        return None

    # -- the interface ---------------------------------------------------------------------
    def create_system(
        self, seed: int, *, name: str = "harness", default_mailbox: aa.MailboxConfig | None = None
    ) -> aa.ActorSystem:
        kwargs: dict[str, Any] = {"seed": seed}
        factory = self.mailbox_factory()
        if factory is not None:
            kwargs["mailbox_factory"] = factory
        registry = self.make_registry()
        if registry is not None:
            kwargs["registry"] = registry
        if default_mailbox is not None:
            kwargs["default_mailbox"] = default_mailbox
        return aa.ActorSystem(name, **kwargs)

    def make_router(
        self,
        refs: Sequence[aa.ActorRef],
        strategy: Literal["round_robin", "least_loaded"],
        rng: random.Random | None = None,
    ) -> aa.Router:
        return aa.Router(list(refs), strategy, rng=rng)

    def make_broadcast(self, refs: Sequence[aa.ActorRef]) -> aa.BroadcastGroup:
        return aa.BroadcastGroup(list(refs))

    def make_pipeline(self, stages: Sequence[aa.ActorRef]) -> aa.Pipeline:
        return aa.Pipeline(list(stages))

    async def spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kwargs: Any
    ) -> aa.SupervisorRef:
        return await system.spawn_supervisor(children, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
