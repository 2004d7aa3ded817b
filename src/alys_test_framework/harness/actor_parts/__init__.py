"""Parts of the actor harness: tracker, monitor, test actors, sessions and the test groups."""

from .monitor import LifecycleMonitor, Transition
from .tracker import MessageTracker, OrderingCheck, Probe, Tracked

__all__ = ["LifecycleMonitor", "MessageTracker", "OrderingCheck", "Probe", "Tracked", "Transition"]
