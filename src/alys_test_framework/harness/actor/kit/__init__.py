"""Kit of the actor harness: tracker, monitor, test behaviours, sessions, shared plumbing."""

from .monitor import LifecycleMonitor, Transition
from .tracker import MessageTracker, OrderingCheck, Probe, Tracked

__all__ = ["LifecycleMonitor", "MessageTracker", "OrderingCheck", "Probe", "Tracked", "Transition"]
