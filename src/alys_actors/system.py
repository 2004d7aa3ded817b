"""ActorSystem: spawning, stopping, observers and the root of the supervision tree."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import random
from collections.abc import Callable, Iterable
from typing import Any

from .actor import Actor
from .deadletters import DeadLetters
from .errors import ActorError, ActorStartError, DuplicateName
from .lifecycle import LifecycleState
from .mailbox import Mailbox, MailboxConfig, Priority
from .ref import ActorRef
from .registry import Registry
from .supervision import (
    ChildKind,
    ChildSpec,
    RestartPolicy,
    RootGuardian,
    Strategy,
    Supervisor,
    SupervisorRef,
)

log = logging.getLogger("alys_actors")

LifecycleObserver = Callable[[ActorRef, LifecycleState, LifecycleState, str], None]
MessageHook = Callable[[str, ActorRef, Any, Priority], None]
FailureObserver = Callable[[ActorRef, BaseException], None]
_INTERNAL_MAILBOX = MailboxConfig(capacity=1_000_000)


class ActorSystem:
    """Owns actors, the root guardian, the registry, dead letters and the seeded RNG."""

    def __init__(
        self,
        name: str = "system",
        *,
        seed: int = 0,
        mailbox_factory: Callable[[MailboxConfig], Mailbox] | None = None,
        registry: Registry | None = None,
        default_mailbox: MailboxConfig = MailboxConfig(),
        stop_timeout: float = 5.0,
    ) -> None:
        if not isinstance(default_mailbox, MailboxConfig):
            raise TypeError(f"default_mailbox must be a MailboxConfig, got {default_mailbox!r}")
        self.name = name
        self.seed = seed
        self.rng = random.Random(seed)
        self.registry = registry if registry is not None else Registry()
        self.dead_letters = DeadLetters()
        self.default_mailbox = default_mailbox
        self.stop_timeout = stop_timeout
        self._mailbox_factory = mailbox_factory
        self._ids = itertools.count(1)
        self._hooks: list[MessageHook] = []
        self._lifecycle_observers: list[LifecycleObserver] = []
        self._failure_observers: list[FailureObserver] = []
        self._top: dict[int, ActorRef] = {}  # root's children, in start order
        self._live: dict[int, ActorRef] = {}
        self._root: SupervisorRef | None = None
        self._closed = False

    # -- observers -----------------------------------------------------------------------
    def add_lifecycle_observer(self, cb: LifecycleObserver) -> None:
        self._lifecycle_observers.append(cb)

    def remove_lifecycle_observer(self, cb: LifecycleObserver) -> None:
        self._lifecycle_observers.remove(cb)

    def add_message_hook(self, cb: MessageHook) -> None:
        self._hooks.append(cb)

    def remove_message_hook(self, cb: MessageHook) -> None:
        self._hooks.remove(cb)

    def add_failure_observer(self, cb: FailureObserver) -> None:
        self._failure_observers.append(cb)

    def remove_failure_observer(self, cb: FailureObserver) -> None:
        self._failure_observers.remove(cb)

    def _run_hooks(self, event: str, ref: ActorRef, msg: Any, prio: Priority) -> None:
        for cb in tuple(self._hooks):
            try:
                cb(event, ref, msg, prio)
            except Exception:  # a broken observer must not break message delivery
                log.exception("message hook %r failed", cb)

    def _notify_lifecycle(
        self, ref: ActorRef, old: LifecycleState, new: LifecycleState, reason: str
    ) -> None:
        for cb in tuple(self._lifecycle_observers):
            try:
                cb(ref, old, new, reason)
            except Exception:
                log.exception("lifecycle observer %r failed", cb)

    def _notify_failure(self, ref: ActorRef, error: BaseException) -> None:
        if not self._failure_observers:
            log.warning("actor %s failed: %r", ref.label, error)
        for cb in tuple(self._failure_observers):
            try:
                cb(ref, error)
            except Exception:
                log.exception("failure observer %r failed", cb)

    # -- introspection -------------------------------------------------------------------
    def actors(self) -> list[ActorRef]:
        """Every live actor (supervisors and children included), in creation order."""
        return [r for r in self._live.values() if r is not self._root]

    def lookup(self, name: str) -> ActorRef | None:
        return self.registry.lookup(name)

    @property
    def root(self) -> SupervisorRef | None:
        return self._root

    # -- spawning ------------------------------------------------------------------------
    def _next_id(self) -> int:
        return next(self._ids)

    def _make_mailbox(self, config: MailboxConfig | None) -> Mailbox:
        config = config if config is not None else self.default_mailbox
        if not isinstance(config, MailboxConfig):
            raise TypeError(f"mailbox must be a MailboxConfig, got {config!r}")
        if self._mailbox_factory is not None:
            return self._mailbox_factory(config)
        return Mailbox(config)

    def _make_ref(
        self,
        factory: Callable[[], Actor],
        name: str | None,
        mailbox: MailboxConfig | None,
        kind: ChildKind,
        parent: ActorRef | None,
        tags: tuple[str, ...] = (),
    ) -> ActorRef:
        if not callable(factory):
            raise TypeError(f"spawn needs an Actor subclass or a factory, got {factory!r}")
        try:
            instance = factory()
        except Exception as e:
            raise ActorStartError(f"factory {factory!r} for actor {name!r} raised {e!r}") from e
        if not isinstance(instance, Actor):
            raise TypeError(f"factory {factory!r} returned {instance!r}, not an Actor instance")
        if isinstance(instance, Supervisor):
            # supervision traffic never goes through a pluggable (possibly broken) mailbox
            box = Mailbox(mailbox or _INTERNAL_MAILBOX)
            return SupervisorRef(self, factory, instance, name, box, kind, parent, tags)
        box = self._make_mailbox(mailbox)
        return ActorRef(self, factory, instance, name, box, kind, parent, tags)

    async def _register_and_start(self, ref: ActorRef) -> None:
        if ref.name is not None:
            self.registry.register(ref.name, ref)
        for tag in ref.tags:
            self.registry.register_service(tag, ref)
        self._live[ref.id] = ref
        await ref._start()

    async def _ensure_root(self) -> SupervisorRef:
        if self._closed:
            raise ActorError(f"actor system {self.name!r} is shut down; cannot spawn")
        if self._root is None:
            root = self._make_ref(RootGuardian, None, _INTERNAL_MAILBOX, ChildKind.PERMANENT, None)
            assert isinstance(root, SupervisorRef)
            root._internal = True
            self._root = root
            await root._start()
        return self._root

    def _check_name(self, name: str | None) -> None:
        if name is not None and self.registry.lookup(name) is not None:
            raise DuplicateName(f"an actor named {name!r} is already registered")

    async def spawn(
        self,
        factory: type[Actor] | Callable[[], Actor],
        *,
        name: str | None = None,
        mailbox: MailboxConfig | None = None,
        tags: Iterable[str] = (),
    ) -> ActorRef:
        """Create and start an actor under the root guardian (restarted on failure)."""
        root = await self._ensure_root()
        self._check_name(name)
        tag_tuple = (tags,) if isinstance(tags, str) else tuple(tags)
        ref = self._make_ref(factory, name, mailbox, ChildKind.TRANSIENT, root, tag_tuple)
        self._top[ref.id] = ref
        await self._register_and_start(ref)
        return ref

    async def spawn_many(
        self,
        factory: type[Actor] | Callable[[], Actor],
        count: int,
        *,
        mailbox: MailboxConfig | None = None,
        tags: Iterable[str] = (),
    ) -> list[ActorRef]:
        """Spawn ``count`` unnamed actors under the root guardian, in order.

        Why a batch call: CPython's cyclic collector makes repeated full passes over the heap
        while millions of long-lived objects appear, so N one-by-one spawns cost more per actor
        the larger N gets (measured 30 us each at 1,000, 76 us at 100,000). A spawn allocates
        nothing that is garbage, so the batch pauses the collector while it allocates and
        restores it afterwards (also on error); the one full pass that follows is linear.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return [await self.spawn(factory, mailbox=mailbox, tags=tags) for _ in range(count)]
        finally:
            if was_enabled:
                gc.enable()

    async def spawn_supervisor(
        self,
        children: list[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        policy: RestartPolicy | None = None,
        max_restarts: int = 3,
        within_s: float = 5.0,
        name: str | None = None,
        parent: SupervisorRef | None = None,
    ) -> SupervisorRef:
        """Start a supervisor and its children (in order); nested under parent if given."""
        policy = policy or RestartPolicy.always()
        strategy = Strategy(strategy)
        for c in children:
            if not isinstance(c, ChildSpec):
                raise TypeError(f"children must be ChildSpec instances, got {c!r}")
        specs = list(children)

        def factory() -> Supervisor:
            return Supervisor(specs, strategy, policy, max_restarts, within_s)

        factory()  # validate arguments now, with a clear error at the call
        if parent is not None:
            if not isinstance(parent, SupervisorRef):
                raise TypeError(f"parent must be a SupervisorRef, got {parent!r}")
            sub_name = name or f"supervisor-{next(self._ids)}"
            ref = await parent.start_child(ChildSpec(sub_name, factory, ChildKind.PERMANENT))
            assert isinstance(ref, SupervisorRef)
            return ref
        root = await self._ensure_root()
        self._check_name(name)
        ref = self._make_ref(factory, name, None, ChildKind.PERMANENT, root)
        if ref.name is None:
            ref.name = f"supervisor-{ref.id}"
        self._top[ref.id] = ref
        await self._register_and_start(ref)
        assert isinstance(ref, SupervisorRef)
        return ref

    # -- stopping ------------------------------------------------------------------------
    async def stop(self, ref: ActorRef, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Graceful stop: queued messages are handled (within timeout), then on_stop runs."""
        await ref._stop("stopped", timeout)

    async def kill(self, ref: ActorRef) -> None:
        """Immediate stop: the loop is cancelled, queued messages become dead letters."""
        await ref._kill("killed")

    async def fail(self, ref: ActorRef, error: BaseException | None = None) -> None:
        """Inject a failure as if a handler had raised (for fault-injection tests)."""
        error = error or ActorError(f"injected failure in {ref.label}")
        if ref.state is not LifecycleState.RUNNING:
            raise ActorError(f"cannot fail {ref!r}: it is not running")
        await ref._halt_loop(self.stop_timeout)
        if ref.state is LifecycleState.RUNNING:
            ref.stats.failures += 1
            ref._fail(error, f"injected failure: {error!r}")

    async def shutdown(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Stop everything in reverse start order; whatever outlives timeout is killed."""
        self._closed = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        ended: list[asyncio.Task] = []
        for ref in reversed(list(self._top.values())):
            task = ref._stop_if_idle("system shutdown") if type(ref) is ActorRef else None
            if task is not None:
                ended.append(task)
            else:
                await ref._stop("system shutdown", max(0.01, deadline - loop.time()))
        if ended:  # idle loops end on their next wake-up, normally within one loop iteration
            await asyncio.sleep(0)
            rest = [t for t in ended if not t.done()]
            if rest:
                await asyncio.wait(rest, timeout=max(0.01, deadline - loop.time()))
        if self._root is not None:
            await self._root._stop("system shutdown", max(0.01, deadline - loop.time()))
        for ref in reversed(list(self._live.values())):
            await ref._kill("system shutdown (straggler)")

    def _on_terminated(self, ref: ActorRef, reason: str) -> None:
        self._live.pop(ref.id, None)
        self._top.pop(ref.id, None)
        self.registry._terminated(ref, reason)

    async def __aenter__(self) -> ActorSystem:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()
