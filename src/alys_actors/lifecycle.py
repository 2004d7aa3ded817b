"""The actor lifecycle state machine.

States and legal transitions are data, so the runtime can refuse an illegal transition loudly
(a bug) and observers (the harness LifecycleMonitor) can check every transition they see.
"""

from __future__ import annotations

from enum import Enum


class LifecycleState(str, Enum):
    UNINITIALIZED = "uninitialized"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"
    RECOVERING = "recovering"


_S = LifecycleState

#: Every legal (old -> new) transition. STOPPED is terminal.
TRANSITIONS: dict[LifecycleState, frozenset[LifecycleState]] = {
    _S.UNINITIALIZED: frozenset({_S.STARTING, _S.STOPPED}),
    _S.STARTING: frozenset({_S.RUNNING, _S.FAILED, _S.STOPPING, _S.STOPPED}),
    _S.RUNNING: frozenset({_S.STOPPING, _S.FAILED, _S.STOPPED}),
    _S.STOPPING: frozenset({_S.STOPPED, _S.RECOVERING}),
    _S.FAILED: frozenset({_S.RECOVERING, _S.STOPPING, _S.STOPPED}),
    _S.RECOVERING: frozenset({_S.RUNNING, _S.FAILED, _S.STOPPING, _S.STOPPED}),
    _S.STOPPED: frozenset(),
}


def is_legal(old: LifecycleState, new: LifecycleState) -> bool:
    """True when old -> new is a transition the runtime may make."""
    return new in TRANSITIONS[old]
