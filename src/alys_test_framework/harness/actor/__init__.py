"""ActorTestHarness: 24 measured tests and 5 generated properties of an actor runtime, for the ActorCore phase.

One module per category holds its tests; ``kit/`` holds the tracker, the monitor, the test
behaviours and the session. Report order is the ``categories`` tuple (the base harness sorts
by it), not the order the category classes are combined in. The runtime is reached only
through the runtime protocol (``targets.actor_runtime``): ``alys_actors`` by default, Pykka
with ``actor_system.runtime = "pykka"``, or any adapter passed in.
"""

from __future__ import annotations

from typing import ClassVar

from ...targets.actor_runtime import ActorRuntime
from ..base import HarnessContext
from .communication import CommunicationTests
from .concurrency import ConcurrencyTests
from .kit.monitor import LifecycleMonitor
from .kit.tracker import MessageTracker
from .lifecycle import LifecycleTests
from .ordering import OrderingTests
from .ordering_properties import OrderingPropertyTests
from .overflow import OverflowTests
from .recovery import RecoveryTests
from .supervision_properties import SupervisionPropertyTests


class ActorTestHarness(
    LifecycleTests,
    RecoveryTests,
    ConcurrencyTests,
    OrderingTests,
    OverflowTests,
    CommunicationTests,
    OrderingPropertyTests,
    SupervisionPropertyTests,
):
    """Validates an actor runtime through the runtime protocol (default: alys_actors)."""

    name: ClassVar[str] = "actor"
    categories: ClassVar[tuple[str, ...]] = (
        "lifecycle",
        "recovery",
        "concurrency",
        "ordering",
        "overflow",
        "communication",
        "ordering_properties",
        "supervision_properties",
    )

    def __init__(self, ctx: HarnessContext, target: ActorRuntime | None = None) -> None:
        super().__init__(ctx, target)


__all__ = ["ActorRuntime", "ActorTestHarness", "LifecycleMonitor", "MessageTracker"]
