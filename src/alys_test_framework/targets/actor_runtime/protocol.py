"""The runtime protocol: everything the actor harness may ask of an actor runtime, and no more.

Rules of this module:
1. The harness speaks only these types. An adapter translates them to its runtime (the
   ``alys_actors`` adapter, the Pykka adapter); no runtime type crosses this line, so the
   harness can judge a runtime nobody here wrote.
2. A behaviour is plain harness code (``Behaviour``: ``on_start``, ``receive``, ``on_stop``);
   the runtime decides when it runs, on which instance, how often and in what order. That
   decision is what the harness measures.
3. What the runtime saw is reported by the runtime, through observers: the message hook
   (``enqueued``/``dequeued``/``processed``), lifecycle transitions (state *names* from
   ``STATES``), failures and dead letters. Verdicts are computed from those reports, never
   from what the harness believes it sent.
4. Capabilities are declared, not probed: ``supports(cap)`` for every name in ``CAPABILITIES``,
   and ``why_not(cap)`` gives the reason a runtime lacks one. A test needing a missing
   capability is reported unsupported with that reason — never passed, never an error.
5. Errors cross as ``ActorStopped``, ``MailboxFull``, ``AskTimeout`` (all ``ActorRuntimeError``);
   an exception raised by a behaviour's handler reaches the asker unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Literal, Protocol, runtime_checkable

# -- capabilities ----------------------------------------------------------------------------
CAPABILITIES: Mapping[str, str] = {
    "priority_mailbox": "messages carry a priority and more urgent ones are delivered first",
    "bounded_mailbox": "a mailbox has a capacity; what happens when full is its overflow policy",
    "overflow:backpressure": "a sender to a full mailbox waits for room",
    "overflow:reject": "a send to a full mailbox fails with MailboxFull",
    "overflow:drop_newest": "the message arriving at a full mailbox is dropped",
    "overflow:drop_oldest": "a full mailbox evicts its oldest message",
    "overflow:drop_lowest_priority": "a full mailbox evicts its least urgent message",
    "supervision": "supervisors restart failed children (one_for_one, restart policies)",
    "strategy:one_for_all": "a child failure restarts all siblings",
    "strategy:rest_for_one": "a child failure restarts it and the siblings started after it",
    "restart:exponential_backoff": "restarts wait base*2^n (capped, jittered)",
    "registry": "actors found by name and service tag; watchers told of deaths",
    "router": "messages spread over a pool (round_robin, least_loaded)",
    "broadcast": "one message to every member of a group, with a delivery count",
    "pipeline": "a message passed through stages, each stage's reply the next stage's input",
    "stats": "per-actor counters kept by the runtime (processed, restarts, handler latency)",
    "dead_letters": "undeliverable messages reported with a reason",
}


# -- values ---------------------------------------------------------------------------------
class Priority(IntEnum):
    """Lower is more urgent."""

    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


class Overflow(str, Enum):
    BACKPRESSURE = "backpressure"
    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"
    DROP_LOWEST_PRIORITY = "drop_lowest_priority"
    REJECT = "reject"

    @property
    def capability(self) -> str:
        return f"overflow:{self.value}"


@dataclass(frozen=True)
class MailboxSpec:
    capacity: int
    overflow: Overflow = Overflow.BACKPRESSURE


class Strategy(str, Enum):
    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"


@dataclass(frozen=True)
class RestartSpec:
    """When a failed child comes back: always, never, or after an exponential backoff."""

    kind: Literal["always", "never", "exponential_backoff"] = "always"
    base_s: float = 0.0
    cap_s: float = 0.0
    jitter: float = 0.0

    @classmethod
    def always(cls) -> RestartSpec:
        return cls("always")

    @classmethod
    def never(cls) -> RestartSpec:
        return cls("never")

    @classmethod
    def exponential_backoff(cls, base_s: float, cap_s: float, jitter: float) -> RestartSpec:
        return cls("exponential_backoff", base_s, cap_s, jitter)


@dataclass(frozen=True)
class RestartRecord:
    """One restart as the supervisor logged it (the delay it says it applied)."""

    child: str
    delay_s: float


@dataclass(frozen=True)
class DeadLetter:
    msg: Any
    reason: str


@dataclass(frozen=True)
class Terminated:
    """Delivered to a watcher when the watched actor stops for good."""

    ref: ActorHandle
    reason: str


#: Lifecycle state names an adapter reports (the harness holds it to the legal edges).
STATES = ("UNINITIALIZED", "STARTING", "RUNNING", "FAILED", "RECOVERING", "STOPPING", "STOPPED")


# -- errors ---------------------------------------------------------------------------------
class ActorRuntimeError(Exception):
    """A refusal by the runtime (as opposed to an exception raised by a behaviour)."""


class ActorStopped(ActorRuntimeError):
    pass


class MailboxFull(ActorRuntimeError):
    pass


class AskTimeout(ActorRuntimeError, TimeoutError):
    pass


class Unsupported(ActorRuntimeError):
    """The runtime cannot express what was asked (see ``ActorRuntime.why_not``)."""


# -- behaviours -----------------------------------------------------------------------------
class Behaviour:
    """Harness code run by the runtime: one instance per incarnation of an actor."""

    async def on_start(self) -> None:
        """Runs before the first message of each incarnation."""

    async def on_stop(self) -> None:
        """Runs once an incarnation ends gracefully (stop, or before a restart)."""

    async def receive(self, msg: Any) -> Any:
        """Handle one message; the return value is the reply to an ask."""
        raise NotImplementedError


BehaviourFactory = Callable[[], Behaviour]


@dataclass(frozen=True)
class ChildSpec:
    name: str
    factory: BehaviourFactory


# -- handles --------------------------------------------------------------------------------
@runtime_checkable
class ActorStats(Protocol):
    """The runtime's own counters of one actor (capability ``stats``)."""

    @property
    def processed(self) -> int: ...
    @property
    def restarts(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    def handler_latency_s(self, percentile: float) -> float: ...


@runtime_checkable
class ActorHandle(Protocol):
    """A reference to one actor, stable across its restarts."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def is_alive(self) -> bool: ...
    @property
    def mailbox_depth(self) -> int: ...
    @property
    def stats(self) -> ActorStats | None: ...

    async def tell(self, msg: Any, priority: Priority = Priority.NORMAL) -> bool:
        """True if accepted, False if a drop policy dropped it; raises MailboxFull/ActorStopped."""
        ...

    def tell_nowait(self, msg: Any, priority: Priority = Priority.NORMAL) -> bool:
        """Like tell, but a full backpressure mailbox raises MailboxFull instead of waiting."""
        ...

    async def ask(
        self, msg: Any, timeout_s: float | None = None, priority: Priority = Priority.NORMAL
    ) -> Any: ...


@runtime_checkable
class SupervisorHandle(ActorHandle, Protocol):
    def child(self, name: str) -> ActorHandle: ...
    def children(self) -> list[ActorHandle]: ...
    @property
    def restart_log(self) -> list[RestartRecord]: ...


class Router(Protocol):
    async def route(self, msg: Any) -> ActorHandle: ...


class Broadcast(Protocol):
    async def broadcast(self, msg: Any) -> int:
        """How many members accepted the message."""
        ...


class Pipeline(Protocol):
    async def run(self, msg: Any, timeout_s: float | None = None) -> Any: ...


class Registry(Protocol):
    def register(self, name: str, ref: ActorHandle) -> None: ...
    def lookup(self, name: str) -> ActorHandle | None: ...
    def register_service(self, tag: str, ref: ActorHandle) -> None: ...
    def lookup_service(self, tag: str) -> list[ActorHandle]: ...
    def names(self) -> list[str]: ...
    def watch(self, target: ActorHandle, watcher: ActorHandle) -> None: ...


# -- observers ------------------------------------------------------------------------------
MessageHook = Callable[[str, ActorHandle, Any, int], None]
"""(event, actor, message, priority) with event in enqueued / dequeued / processed."""
LifecycleObserver = Callable[[ActorHandle, str, str, str], None]
"""(actor, old state name, new state name, reason)."""
FailureObserver = Callable[[ActorHandle, BaseException, bool], None]
"""(actor, error, escalated): escalated is True for a supervisor giving up, not a handler."""
DeadLetterObserver = Callable[[DeadLetter], None]


@dataclass(frozen=True)
class Observers:
    messages: MessageHook | None = None
    lifecycle: LifecycleObserver | None = None
    failures: FailureObserver | None = None
    dead_letters: DeadLetterObserver | None = None


# -- systems and runtimes ---------------------------------------------------------------------
@runtime_checkable
class ActorSystem(Protocol):
    """One isolated set of actors (one per harness test)."""

    @property
    def registry(self) -> Registry | None:
        """None when the runtime has no registry (capability ``registry``)."""
        ...

    def observe(self, observers: Observers) -> Callable[[], None]:
        """Install observers; returns the function that removes them."""
        ...

    async def spawn(
        self,
        factory: BehaviourFactory,
        *,
        name: str | None = None,
        mailbox: MailboxSpec | None = None,
        tags: Iterable[str] = (),
    ) -> ActorHandle: ...

    async def spawn_supervisor(
        self,
        children: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        restart: RestartSpec = RestartSpec(),
        max_restarts: int = 3,
        within_s: float = 5.0,
        name: str | None = None,
        parent: SupervisorHandle | None = None,
    ) -> SupervisorHandle: ...

    async def stop(self, ref: ActorHandle, timeout_s: float = 5.0) -> None:
        """Graceful: mail already queued is handled, then on_stop runs; new mail is refused."""
        ...

    async def shutdown(self, timeout_s: float = 5.0) -> None: ...

    def live_workers(self) -> list[str]:
        """Threads or processes of this system still running (asyncio tasks are seen apart)."""
        ...


@runtime_checkable
class ActorRuntime(Protocol):
    """An actor runtime the harness can be pointed at."""

    name: str

    def supports(self, capability: str) -> bool: ...

    def why_not(self, capability: str) -> str:
        """Why the runtime lacks ``capability`` ('' when it has it)."""
        ...

    def create_system(
        self, seed: int, *, name: str = "harness", default_mailbox: MailboxSpec | None = None
    ) -> ActorSystem: ...

    def make_router(
        self,
        refs: Sequence[ActorHandle],
        strategy: Literal["round_robin", "least_loaded"],
        rng: random.Random | None = None,
    ) -> Router: ...

    def make_broadcast(self, refs: Sequence[ActorHandle]) -> Broadcast: ...

    def make_pipeline(self, stages: Sequence[ActorHandle]) -> Pipeline: ...


class Capabilities:
    """``supports``/``why_not`` from a table of what is missing and why (adapters mix it in)."""

    missing: Mapping[str, str] = {}

    def supports(self, capability: str) -> bool:
        if capability not in CAPABILITIES:
            raise KeyError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
        return capability not in self.missing

    def why_not(self, capability: str) -> str:
        return "" if self.supports(capability) else self.missing[capability]
