"""The ``alys_actors`` runtime behind the runtime protocol.

This adapter is a translation layer only: every verdict-relevant decision (mailbox order,
drops, backpressure, restarts, registry entries, router choice) is made by ``alys_actors``
itself. Runtime errors are mapped to the protocol's, runtime refs are wrapped in handles that
keep their identity, and the harness's behaviours are hosted in an ``aa.Actor`` subclass.

Broken runtimes in the test suite subclass :class:`AlysActorsRuntime` and swap one native part
(``mailbox_factory``, ``make_registry``, ``native_router``, ``native_spawn_supervisor``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import alys_actors as aa

from . import protocol as p
from .alys_handles import AlysHandle, AlysSupervisor, HandleTable, native_priority, translated

_POLICY = {o: aa.OverflowPolicy(o.value) for o in p.Overflow}
_STRATEGY = {s: aa.Strategy(s.value) for s in p.Strategy}


def _restart_policy(spec: p.RestartSpec) -> aa.RestartPolicy:
    if spec.kind == "never":
        return aa.RestartPolicy.never()
    if spec.kind == "exponential_backoff":
        return aa.RestartPolicy.exponential_backoff(spec.base_s, spec.cap_s, spec.jitter)
    return aa.RestartPolicy.always()


def _mailbox(spec: p.MailboxSpec | None) -> aa.MailboxConfig | None:
    return None if spec is None else aa.MailboxConfig(spec.capacity, _POLICY[spec.overflow])


class _Hosted(aa.Actor):
    """Runs one behaviour instance; a restart builds a fresh one from the factory."""

    def __init__(self, behaviour: p.Behaviour, table: HandleTable) -> None:
        self._behaviour = behaviour
        self._table = table

    async def on_start(self) -> None:
        await self._behaviour.on_start()

    async def on_stop(self) -> None:
        await self._behaviour.on_stop()

    async def receive(self, message: Any) -> Any:
        if isinstance(message, aa.Terminated):
            message = p.Terminated(self._table.wrap(message.ref), message.reason)
        return await self._behaviour.receive(message)


class _Registry:
    def __init__(self, native: aa.Registry, table: HandleTable) -> None:
        self._native = native
        self._table = table

    def register(self, name: str, ref: p.ActorHandle) -> None:
        self._native.register(name, self._table.native(ref))

    def lookup(self, name: str) -> p.ActorHandle | None:
        found = self._native.lookup(name)
        return None if found is None else self._table.wrap(found)

    def register_service(self, tag: str, ref: p.ActorHandle) -> None:
        self._native.register_service(tag, self._table.native(ref))

    def lookup_service(self, tag: str) -> list[p.ActorHandle]:
        return [self._table.wrap(r) for r in self._native.lookup_service(tag)]

    def names(self) -> list[str]:
        return list(self._native.names())

    def watch(self, target: p.ActorHandle, watcher: p.ActorHandle) -> None:
        self._native.watch(self._table.native(target), self._table.native(watcher))


class AlysSystem:
    """One ``aa.ActorSystem`` seen through the protocol."""

    def __init__(self, runtime: AlysActorsRuntime, native: aa.ActorSystem) -> None:
        self._runtime = runtime
        self.native = native
        self.table = HandleTable()
        self._registry = _Registry(native.registry, self.table)

    @property
    def registry(self) -> p.Registry:
        return self._registry

    def _host(self, factory: p.BehaviourFactory) -> Callable[[], aa.Actor]:
        table = self.table
        return lambda: _Hosted(factory(), table)

    def observe(self, observers: p.Observers) -> Callable[[], None]:
        wrap = self.table.wrap
        undo: list[Callable[[], None]] = []
        if (hook := observers.messages) is not None:

            def on_message(event: str, ref: aa.ActorRef, msg: Any, prio: aa.Priority) -> None:
                hook(event, wrap(ref), msg, int(prio))

            self.native.add_message_hook(on_message)
            undo.append(lambda: self.native.remove_message_hook(on_message))
        if (life := observers.lifecycle) is not None:

            def on_life(ref: aa.ActorRef, old: Any, new: Any, reason: str) -> None:
                life(wrap(ref), old.name, new.name, reason)

            self.native.add_lifecycle_observer(on_life)
            undo.append(lambda: self.native.remove_lifecycle_observer(on_life))
        if (fail := observers.failures) is not None:

            def on_failure(ref: aa.ActorRef, error: BaseException) -> None:
                fail(wrap(ref), error, isinstance(error, aa.Escalation))

            self.native.add_failure_observer(on_failure)
            undo.append(lambda: self.native.remove_failure_observer(on_failure))
        if (dead := observers.dead_letters) is not None:

            def on_dead(letter: aa.DeadLetter) -> None:
                dead(p.DeadLetter(letter.msg, letter.reason))

            self.native.dead_letters.subscribe(on_dead)
            undo.append(lambda: self.native.dead_letters.unsubscribe(on_dead))

        def remove() -> None:
            for fn in undo:
                fn()

        return remove

    async def spawn(
        self,
        factory: p.BehaviourFactory,
        *,
        name: str | None = None,
        mailbox: p.MailboxSpec | None = None,
        tags: Iterable[str] = (),
    ) -> p.ActorHandle:
        with translated():
            ref = await self.native.spawn(
                self._host(factory), name=name, mailbox=_mailbox(mailbox), tags=tuple(tags)
            )
        return self.table.wrap(ref)

    async def spawn_supervisor(
        self,
        children: Sequence[p.ChildSpec],
        *,
        strategy: p.Strategy = p.Strategy.ONE_FOR_ONE,
        restart: p.RestartSpec = p.RestartSpec(),
        max_restarts: int = 3,
        within_s: float = 5.0,
        name: str | None = None,
        parent: p.SupervisorHandle | None = None,
    ) -> p.SupervisorHandle:
        specs = [aa.ChildSpec(c.name, self._host(c.factory)) for c in children]
        native_parent = None if parent is None else self.table.native(parent)
        with translated():
            ref = await self._runtime.native_spawn_supervisor(
                self.native,
                specs,
                strategy=_STRATEGY[strategy],
                policy=_restart_policy(restart),
                max_restarts=max_restarts,
                within_s=within_s,
                name=name,
                parent=native_parent,
            )
        handle = self.table.wrap(ref)
        assert isinstance(handle, AlysSupervisor)
        return handle

    async def stop(self, ref: p.ActorHandle, timeout_s: float = 5.0) -> None:
        with translated():
            await self.native.stop(self.table.native(ref), timeout=timeout_s)

    async def shutdown(self, timeout_s: float = 5.0) -> None:
        await self.native.shutdown(timeout=timeout_s)

    def live_workers(self) -> list[str]:
        return []  # everything alys_actors runs is an asyncio task, measured by the caller


class _Router:
    def __init__(self, native: aa.Router, table: HandleTable) -> None:
        self._native = native
        self._table = table

    async def route(self, msg: Any) -> p.ActorHandle:
        with translated():
            return self._table.wrap(await self._native.route(msg))


class _Broadcast:
    def __init__(self, native: aa.BroadcastGroup) -> None:
        self._native = native

    async def broadcast(self, msg: Any) -> int:
        return await self._native.broadcast(msg)


class _Pipeline:
    def __init__(self, native: aa.Pipeline) -> None:
        self._native = native

    async def run(self, msg: Any, timeout_s: float | None = None) -> Any:
        with translated():
            return await self._native.run(msg, timeout=timeout_s)


def _natives(refs: Sequence[p.ActorHandle]) -> list[aa.ActorRef]:
    out = []
    for r in refs:
        if not isinstance(r, AlysHandle):
            raise TypeError(f"{r!r} is not an alys_actors handle")
        out.append(r.native)
    return out


class AlysActorsRuntime(p.Capabilities):
    """``alys_actors`` as shipped: every capability of the protocol."""

    name = "alys_actors"
    missing: dict[str, str] = {}

    # -- native parts (broken runtimes override one) -------------------------------------
    def mailbox_factory(self) -> Callable[[aa.MailboxConfig], aa.Mailbox] | None:
        """None = the runtime's own mailbox."""
        return None

    def make_registry(self) -> aa.Registry | None:
        """None = the runtime's own registry."""
        return None

    def native_router(
        self, refs: list[aa.ActorRef], strategy: Any, rng: random.Random | None
    ) -> aa.Router:
        return aa.Router(refs, strategy, rng=rng)

    async def native_spawn_supervisor(
        self, system: aa.ActorSystem, children: list[aa.ChildSpec], **kw: Any
    ) -> aa.SupervisorRef:
        return await system.spawn_supervisor(children, **kw)

    # -- the protocol ------------------------------------------------------------------------
    def create_system(
        self, seed: int, *, name: str = "harness", default_mailbox: p.MailboxSpec | None = None
    ) -> AlysSystem:
        kwargs: dict[str, Any] = {"seed": seed}
        factory = self.mailbox_factory()
        if factory is not None:
            kwargs["mailbox_factory"] = factory
        registry = self.make_registry()
        if registry is not None:
            kwargs["registry"] = registry
        if (mb := _mailbox(default_mailbox)) is not None:
            kwargs["default_mailbox"] = mb
        return AlysSystem(self, aa.ActorSystem(name, **kwargs))

    def make_router(
        self,
        refs: Sequence[p.ActorHandle],
        strategy: Literal["round_robin", "least_loaded"],
        rng: random.Random | None = None,
    ) -> p.Router:
        table = _table_of(refs)
        return _Router(self.native_router(_natives(refs), strategy, rng), table)

    def make_broadcast(self, refs: Sequence[p.ActorHandle]) -> p.Broadcast:
        return _Broadcast(aa.BroadcastGroup(_natives(refs)))

    def make_pipeline(self, stages: Sequence[p.ActorHandle]) -> p.Pipeline:
        return _Pipeline(aa.Pipeline(_natives(stages)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _table_of(refs: Sequence[p.ActorHandle]) -> HandleTable:
    first = refs[0] if refs else None
    if not isinstance(first, AlysHandle):
        raise TypeError("a router needs at least one alys_actors handle")
    return first.table


__all__ = ["AlysActorsRuntime", "AlysSystem", "native_priority"]
