"""Actor runtimes the actor harness can be pointed at, behind one narrow protocol.

``protocol`` is the whole contract; ``alys_runtime`` and ``pykka_runtime`` adapt two runtimes
to it. ``runtime_named`` picks one by the name used in the config (``actor_system.runtime``).
"""

from __future__ import annotations

from .protocol import (
    CAPABILITIES,
    ActorHandle,
    ActorRuntime,
    ActorRuntimeError,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    Behaviour,
    ChildSpec,
    DeadLetter,
    MailboxFull,
    MailboxSpec,
    Observers,
    Overflow,
    Priority,
    RestartSpec,
    Strategy,
    SupervisorHandle,
    Terminated,
    Unsupported,
)

RUNTIMES = ("alys_actors", "pykka")


def runtime_named(name: str) -> ActorRuntime:
    """The adapter for ``name``; imported lazily so one runtime's absence spares the other."""
    if name == "alys_actors":
        from .alys_runtime import AlysActorsRuntime

        return AlysActorsRuntime()
    if name == "pykka":
        from .pykka_runtime import PykkaRuntime

        return PykkaRuntime()
    raise ValueError(f"unknown actor runtime {name!r}; choose one of {', '.join(RUNTIMES)}")


__all__ = [
    "CAPABILITIES",
    "RUNTIMES",
    "ActorHandle",
    "ActorRuntime",
    "ActorRuntimeError",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "Behaviour",
    "ChildSpec",
    "DeadLetter",
    "MailboxFull",
    "MailboxSpec",
    "Observers",
    "Overflow",
    "Priority",
    "RestartSpec",
    "Strategy",
    "SupervisorHandle",
    "Terminated",
    "Unsupported",
    "runtime_named",
]
