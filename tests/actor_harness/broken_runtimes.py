"""Deliberately broken actor runtimes: each breaks exactly one property the harness must catch.

Every one is the real ``alys_actors`` runtime behind the runtime protocol with one native part
swapped through the adapter's override points (``AlysActorsRuntime``): a mailbox subclass, a
registry subclass, a router subclass, or a supervisor spawned with a different policy. The
harness sees each only through the protocol, as it sees any runtime.
"""

from __future__ import annotations

import queue
import random
from collections.abc import Callable, Sequence
from typing import Any

import alys_actors as aa
from alys_actors.mailbox import ACCEPTED, EMPTY, PutResult
from alys_test_framework.targets.actor_runtime.alys_runtime import AlysActorsRuntime
from alys_test_framework.targets.actor_runtime.pykka_runtime import PykkaHost, PykkaRuntime


# -- mailboxes ------------------------------------------------------------------------------
class ReorderingMailbox(aa.Mailbox):
    """Delivers every other message from the back of its priority queue (newest first)."""

    def __init__(self, config: aa.MailboxConfig | None = None) -> None:
        super().__init__(config)
        self._flip = False

    def get_nowait(self) -> Any:
        if not self._size:
            return EMPTY
        for dq in self._queues:
            if dq:
                self._flip = not self._flip
                item = dq.pop() if self._flip and len(dq) > 1 else dq.popleft()
                break
        else:  # pragma: no cover
            return EMPTY
        self._size -= 1
        if self._putters:
            self._wake_putter()
        return item


class DroppingMailbox(aa.Mailbox):
    """Claims to accept every message but silently discards one normal message in ``every``."""

    every = 37

    def __init__(self, config: aa.MailboxConfig | None = None) -> None:
        super().__init__(config)
        self._n = 0

    def put_nowait(self, item: Any, priority: aa.Priority = aa.Priority.NORMAL) -> Any:
        if priority is aa.Priority.NORMAL and self._size < self.capacity:
            self._n += 1
            if self._n % self.every == 0:
                return ACCEPTED  # lost without a trace: no dead letter, no drop count
        return super().put_nowait(item, priority)


class UnboundedMailbox(aa.Mailbox):
    """Never full: capacity and overflow policy are ignored (no backpressure, no drops)."""

    def put_nowait(self, item: Any, priority: aa.Priority = aa.Priority.NORMAL) -> Any:
        self.capacity = max(self.capacity, self._size + 1)
        return super().put_nowait(item, priority)


class PriorityBlindMailbox(aa.Mailbox):
    """Treats every message as NORMAL: FIFO regardless of priority, drops ignore urgency."""

    def put_nowait(self, item: Any, priority: aa.Priority = aa.Priority.NORMAL) -> Any:
        return super().put_nowait(item, aa.Priority.NORMAL)


class UrgentEvictingMailbox(aa.Mailbox):
    """drop_oldest evicts the oldest of the least urgent level present even when that level is
    more urgent than the arriving message (the boundary the generated bursts rarely reach)."""

    def _overflow(self, item: Any, priority: aa.Priority = aa.Priority.NORMAL) -> Any:
        if self.policy is aa.OverflowPolicy.DROP_OLDEST:
            for p in reversed(aa.Priority):
                if self._queues[p]:
                    evicted = self._queues[p].popleft()
                    self._queues[priority].append(item)
                    return PutResult(True, "dropped_oldest", evicted, p)
        return super()._overflow(item, priority)


# -- registry and router ----------------------------------------------------------------------
class StickyRegistry(aa.Registry):
    """Notifies watchers of a death but never removes the dead actor's names or services."""

    def _terminated(self, ref: aa.ActorRef, reason: str) -> None:
        for w in self._watchers.pop(ref.id, ()):
            self._deliver(w, aa.Terminated(ref, reason))


class FirstWorkerRouter(aa.Router):
    """Always picks the first worker, whatever the strategy says."""

    def select(self, live: Sequence[aa.ActorRef]) -> aa.ActorRef:
        return live[0]


# -- targets ------------------------------------------------------------------------------------
class _MailboxTarget(AlysActorsRuntime):
    mailbox_cls: type[aa.Mailbox] = aa.Mailbox

    def mailbox_factory(self) -> Callable[[aa.MailboxConfig], aa.Mailbox]:
        return self.mailbox_cls


class ReorderingRuntime(_MailboxTarget):
    name = "broken:mailbox-reorders"
    mailbox_cls = ReorderingMailbox


class DroppingRuntime(_MailboxTarget):
    name = "broken:mailbox-drops"
    mailbox_cls = DroppingMailbox


class PriorityBlindRuntime(_MailboxTarget):
    name = "broken:priority-ignored"
    mailbox_cls = PriorityBlindMailbox


class UrgentEvictingRuntime(_MailboxTarget):
    name = "broken:drop-oldest-evicts-urgent"
    mailbox_cls = UrgentEvictingMailbox


class UnboundedMailboxRuntime(_MailboxTarget):
    name = "broken:mailbox-unbounded"
    mailbox_cls = UnboundedMailbox


class NoBackoffRuntime(AlysActorsRuntime):
    """Supervisors restart at once: an exponential backoff policy is replaced by always()."""

    name = "broken:supervisor-ignores-backoff"

    async def native_spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kw: Any
    ) -> aa.SupervisorRef:
        policy = kw.get("policy")
        if policy is not None and policy.kind == "exponential_backoff":
            kw["policy"] = aa.RestartPolicy.always()
        return await system.spawn_supervisor(children, **kw)


class OneForOneOnlyRuntime(AlysActorsRuntime):
    """Supervisors ignore the requested strategy and always isolate (one_for_one)."""

    name = "broken:supervisor-strategy-ignored"

    async def native_spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kw: Any
    ) -> aa.SupervisorRef:
        kw["strategy"] = aa.Strategy.ONE_FOR_ONE
        return await system.spawn_supervisor(children, **kw)


class NeverRestartRuntime(AlysActorsRuntime):
    """Every supervisor it builds uses RestartPolicy.never(), whatever was asked for."""

    name = "broken:supervisor-never-restarts"

    async def native_spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kw: Any
    ) -> aa.SupervisorRef:
        kw["policy"] = aa.RestartPolicy.never()
        return await system.spawn_supervisor(children, **kw)


class UnlimitedRestartRuntime(AlysActorsRuntime):
    """Every supervisor it builds restarts without an intensity limit."""

    name = "broken:supervisor-restarts-forever"

    async def native_spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kw: Any
    ) -> aa.SupervisorRef:
        kw["max_restarts"] = 10**9
        return await system.spawn_supervisor(children, **kw)


class FirstWorkerRouterRuntime(AlysActorsRuntime):
    name = "broken:router-always-first"

    def native_router(
        self, refs: list[aa.ActorRef], strategy: Any, rng: random.Random | None
    ) -> aa.Router:
        return FirstWorkerRouter(refs, strategy, rng=rng)


class StickyRegistryRuntime(AlysActorsRuntime):
    name = "broken:registry-never-deregisters"

    def make_registry(self) -> aa.Registry:
        return StickyRegistry()


# -- Pykka ---------------------------------------------------------------------------------------
class LifoInboxHost(PykkaHost):
    """Pykka's own extension point for the inbox, filled with a LIFO queue: newest mail first."""

    @staticmethod
    def _create_actor_inbox() -> Any:
        return queue.LifoQueue()


class LifoInboxPykkaRuntime(PykkaRuntime):
    name = "broken:pykka-lifo-inbox"
    host = LifoInboxHost


class LossyInbox(queue.Queue[Any]):
    """Swallows one harness message in ``every`` (Pykka's own control messages pass)."""

    every = 37

    def __init__(self) -> None:
        super().__init__()
        self._n = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if type(item.message).__module__.startswith("alys_test_framework"):
            self._n += 1
            if self._n % self.every == 0:
                return
        super().put(item, block, timeout)


class LossyInboxHost(PykkaHost):
    @staticmethod
    def _create_actor_inbox() -> Any:
        return LossyInbox()


class LossyInboxPykkaRuntime(PykkaRuntime):
    name = "broken:pykka-inbox-drops"
    host = LossyInboxHost


#: broken target -> (methods that must FAIL, words the failure message must contain)
EXPECTED: dict[type, dict[str, str]] = {
    ReorderingRuntime: {
        "test_fifo_message_ordering": "FIFO ordering",
        "test_concurrent_ordering_verification": "per-sender FIFO ordering",
        "test_priority_message_ordering": "FIFO within priority",
    },
    DroppingRuntime: {
        "test_concurrent_message_processing": "zero message loss",
        "test_direct_actor_messaging": "no message loss",
        "test_backpressure_mechanisms": "no message loss",
        "test_fifo_message_ordering": "no message loss",
    },
    PriorityBlindRuntime: {
        "test_priority_message_ordering": "priority ordering",
        "test_message_dropping_policies": "critical messages preserved",
    },
    NeverRestartRuntime: {
        "test_supervisor_restart_validation": "restart policy always",
        "test_panic_injection_recovery": "recovery from handler exception",
        "test_actor_state_transitions": "full state machine",
    },
    UnlimitedRestartRuntime: {
        "test_supervisor_restart_validation": "restart intensity limit",
        "test_cascading_failure_prevention": "intensity exceeded escalates",
    },
    FirstWorkerRouterRuntime: {
        "test_message_load_balancing": "load balance within tolerance",
        "test_actor_discovery_communication": "load balance within tolerance",
    },
    UnboundedMailboxRuntime: {
        "test_backpressure_mechanisms": "senders slowed by backpressure",
        "test_mailbox_overflow_detection": "overflow detection",
        "test_message_dropping_policies": "drop count",
        "test_cascading_overflow_prevention": "backpressure propagates upstream",
    },
    NoBackoffRuntime: {
        "test_supervisor_restart_validation": "exponential backoff delays",
    },
    OneForOneOnlyRuntime: {
        "test_cascading_failure_prevention": "one_for_all restarts exactly the right set",
    },
    StickyRegistryRuntime: {
        "test_actor_state_transitions": "registry empty after shutdown",
        "test_actor_discovery_communication": "deregistration on stop",
        "test_actor_creation_lifecycle": "resources released",
    },
    LifoInboxPykkaRuntime: {
        "test_fifo_message_ordering": "FIFO ordering",
        "test_concurrent_ordering_verification": "per-sender FIFO ordering",
    },
    LossyInboxPykkaRuntime: {
        "test_concurrent_message_processing": "zero message loss",
        "test_direct_actor_messaging": "no message loss",
        "test_concurrent_ordering_verification": "no message loss",
    },
}
