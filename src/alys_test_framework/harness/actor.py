"""ActorTestHarness: 24 measured tests of an actor runtime, for the ActorCore phase.

The methods live in one mixin per category (``actor_parts``); this class only puts them
together. Bases are listed last-category-first because the base harness collects tests
walking the MRO from the root, so the report lists lifecycle tests first.
"""

from __future__ import annotations

from typing import ClassVar

from ..targets.actor_runtime import ActorRuntimeTarget, RealActorRuntime
from .actor_parts.communication import CommunicationTests
from .actor_parts.concurrency import ConcurrencyTests
from .actor_parts.lifecycle import LifecycleTests
from .actor_parts.monitor import LifecycleMonitor
from .actor_parts.ordering import OrderingTests
from .actor_parts.overflow import OverflowTests
from .actor_parts.recovery import RecoveryTests
from .actor_parts.tracker import MessageTracker
from .base import HarnessContext


class ActorTestHarness(
    CommunicationTests,
    OverflowTests,
    OrderingTests,
    ConcurrencyTests,
    RecoveryTests,
    LifecycleTests,
):
    """Validates an actor runtime through :class:`ActorRuntimeTarget` (default: alys_actors)."""

    name: ClassVar[str] = "actor"
    categories: ClassVar[tuple[str, ...]] = (
        "lifecycle",
        "recovery",
        "concurrency",
        "ordering",
        "overflow",
        "communication",
    )

    def __init__(self, ctx: HarnessContext, target: ActorRuntimeTarget | None = None) -> None:
        super().__init__(ctx, target)


__all__ = [
    "ActorRuntimeTarget",
    "ActorTestHarness",
    "LifecycleMonitor",
    "MessageTracker",
    "RealActorRuntime",
]
