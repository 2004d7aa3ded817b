"""Pykka (threading actors, from PyPI) behind the runtime protocol.

What is Pykka's here, and so what the harness measures: one thread per actor, its inbox (an
unbounded FIFO ``queue.Queue``), one-message-at-a-time processing, ``tell``/``ask`` with
Pykka's futures, ``stop`` (mail queued before the stop is handled, later mail refused with
``ActorDeadError``), ``on_start``/``on_stop``/``on_failure``, and Pykka's failure rule (an
exception from a told message stops the actor; one from an asked message goes to the asker).

What the adapter adds, and why:
- The harness's behaviours are coroutines. Each Pykka actor thread hands its handler to the
  harness's event loop and blocks until it is done, so the thread still processes exactly one
  message at a time, in the order its inbox yields them. Nothing blocks the loop: sends are
  non-blocking puts, replies cross back through a future callback.
- Observers: ``enqueued`` is reported as the put is made, ``dequeued``/``processed`` around the
  handler; lifecycle transitions come from Pykka's own hooks. ``mailbox_depth`` counts messages
  put and not yet handed to a handler (the inbox plus the hop to the loop), so "idle" is exact.
What Pykka lacks is declared in ``PykkaRuntime.missing`` and never emulated.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import Future as ConcurrentFuture
from typing import Any, Literal

import pykka
from pykka import ThreadingFuture

from . import protocol as p

_NOT_BOUNDED = (
    "Pykka mailboxes are unbounded queues (a bounded inbox only blocks the sending thread: "
    "no overflow policy, no refusal)"
)


class _BridgedFuture(ThreadingFuture[Any]):
    """A Pykka future that also tells the event loop when it is set (Pykka's own ``await``
    blocks the loop thread in ``get``)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._done = False
        self._callbacks: list[Callable[[], None]] = []

    def _fire(self) -> None:
        with self._lock:
            self._done = True
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def set(self, value: Any | None = None) -> None:
        super().set(value)
        self._fire()

    def set_exception(self, exc_info: Any = None) -> None:
        super().set_exception(exc_info)
        self._fire()

    def when_done(self, cb: Callable[[], None]) -> None:
        with self._lock:
            if not self._done:
                self._callbacks.append(cb)
                return
        cb()


class PykkaHost(pykka.ThreadingActor):
    """The Pykka actor; every hook hands the real work to the cell on the event loop.

    Broken runtimes in the tests subclass it (e.g. another inbox) and name it in
    ``PykkaRuntime.host``.
    """

    use_daemon_thread = True

    def __init__(self, cell: _Cell) -> None:
        super().__init__()
        self._cell = cell

    @staticmethod
    def _create_future() -> _BridgedFuture:
        return _BridgedFuture()

    def on_start(self) -> None:
        self._cell.thread = threading.current_thread()
        self._cell.on_thread(self._cell.started())

    def on_stop(self) -> None:
        self._cell.on_thread(self._cell.stopped())

    def on_failure(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        self._cell.on_thread(self._cell.failed(exc_value))

    def on_receive(self, message: Any) -> Any:
        return self._cell.on_thread(self._cell.handle(message))


class _Cell:
    """Loop-side state of one Pykka actor; also its protocol handle."""

    def __init__(
        self, system: PykkaSystem, aid: int, name: str, factory: p.BehaviourFactory
    ) -> None:
        self._system = system
        self.id = aid
        self.name = name
        self._behaviour = factory()
        self._state = "UNINITIALIZED"
        self._in_flight = 0
        self.thread: threading.Thread | None = None
        self.running = asyncio.Event()
        self.ended = asyncio.Event()
        self.ref: pykka.ActorRef[Any] | None = None
        self._pending: set[ConcurrentFuture[Any]] = set()
        self._pending_lock = threading.Lock()  # the actor thread adds, the loop cancels

    # -- protocol handle ---------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def is_alive(self) -> bool:
        return self.ref is not None and self.ref.is_alive()

    @property
    def mailbox_depth(self) -> int:
        return self._in_flight

    @property
    def stats(self) -> None:
        return None

    def _check(self, priority: p.Priority) -> pykka.ActorRef[Any]:
        if priority is not p.Priority.NORMAL:
            raise p.Unsupported(PykkaRuntime.missing["priority_mailbox"])
        if self.ref is None or not self.ref.is_alive():
            raise p.ActorStopped(f"{self.name} is not running")
        return self.ref

    def tell_nowait(self, msg: Any, priority: p.Priority = p.Priority.NORMAL) -> bool:
        ref = self._check(priority)
        self._system.hook("enqueued", self, msg)
        self._in_flight += 1
        try:
            ref.tell(msg)
        except pykka.ActorDeadError as exc:
            self._in_flight -= 1
            raise p.ActorStopped(str(exc)) from exc
        return True

    async def tell(self, msg: Any, priority: p.Priority = p.Priority.NORMAL) -> bool:
        return self.tell_nowait(msg, priority)

    async def ask(
        self, msg: Any, timeout_s: float | None = None, priority: p.Priority = p.Priority.NORMAL
    ) -> Any:
        ref = self._check(priority)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._system.hook("enqueued", self, msg)
        self._in_flight += 1
        fut = ref.ask(msg, block=False)
        assert isinstance(fut, _BridgedFuture)

        def resolve() -> None:
            if reply.done():
                return
            try:
                reply.set_result(fut.get(timeout=0))
            except pykka.ActorDeadError as exc:
                reply.set_exception(p.ActorStopped(str(exc)))
            except BaseException as exc:  # the behaviour's own exception, as Pykka returns it
                reply.set_exception(exc)

        def notify() -> None:  # on the actor thread
            loop.call_soon_threadsafe(resolve)

        fut.when_done(notify)
        try:
            return await asyncio.wait_for(asyncio.shield(reply), timeout_s)
        except TimeoutError:
            raise p.AskTimeout(f"{self.name} did not answer within {timeout_s:g} s") from None

    def __repr__(self) -> str:
        return f"<pykka {self.name} {self._state}>"

    # -- run on the actor thread ---------------------------------------------------------
    def on_thread(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on the event loop and wait for it (called from the actor thread)."""
        fut = asyncio.run_coroutine_threadsafe(coro, self._system.loop)
        with self._pending_lock:
            self._pending.add(fut)
        try:
            return fut.result()
        finally:
            with self._pending_lock:
                self._pending.discard(fut)

    def cancel_pending(self) -> None:
        """Cancel a handler still running at shutdown (Pykka has no kill of its own)."""
        with self._pending_lock:
            pending = list(self._pending)
        for fut in pending:
            fut.cancel()

    # -- run on the loop, for the actor thread ---------------------------------------------
    def move(self, new: str, reason: str) -> None:
        old, self._state = self._state, new
        self._system.transition(self, old, new, reason)

    async def started(self) -> None:
        try:
            await self._behaviour.on_start()
        except BaseException as exc:
            self.move("FAILED", f"on_start raised {exc!r}")
            self._system.failure(self, exc)
            self.move("STOPPED", "pykka stops an actor whose on_start failed")
            self.ended.set()
            self.running.set()
            raise
        self.move("RUNNING", "on_start done")
        self.running.set()

    async def handle(self, msg: Any) -> Any:
        self._in_flight -= 1
        self._system.hook("dequeued", self, msg)
        try:
            return await self._behaviour.receive(msg)
        finally:
            self._system.hook("processed", self, msg)

    async def stopped(self) -> None:
        if self._state == "RUNNING":
            self.move("STOPPING", "stopped by pykka")
        try:
            await self._behaviour.on_stop()
        finally:
            self.move("STOPPED", "on_stop done")
            self.ended.set()

    async def failed(self, exc: BaseException) -> None:
        self.move("FAILED", f"handler raised {exc!r}")
        self._system.failure(self, exc)
        self.move("STOPPED", "pykka stops an actor whose told message failed")
        self.ended.set()


class PykkaSystem:
    """A set of Pykka actors started for one harness test."""

    def __init__(self, seed: int, name: str, host: type[PykkaHost]) -> None:
        self.loop = asyncio.get_running_loop()
        self._host = host
        self.name = name
        self._ids = itertools.count(1)
        self._cells: list[_Cell] = []
        self._observers: list[p.Observers] = []

    @property
    def registry(self) -> None:
        return None

    # -- observers ---------------------------------------------------------------------
    def observe(self, observers: p.Observers) -> Callable[[], None]:
        self._observers.append(observers)
        return lambda: self._observers.remove(observers)

    def hook(self, event: str, cell: _Cell, msg: Any) -> None:
        for o in self._observers:
            if o.messages is not None:
                o.messages(event, cell, msg, int(p.Priority.NORMAL))

    def transition(self, cell: _Cell, old: str, new: str, reason: str) -> None:
        for o in self._observers:
            if o.lifecycle is not None:
                o.lifecycle(cell, old, new, reason)

    def failure(self, cell: _Cell, exc: BaseException) -> None:
        for o in self._observers:
            if o.failures is not None:
                o.failures(cell, exc, False)

    # -- actors ------------------------------------------------------------------------
    async def spawn(
        self,
        factory: p.BehaviourFactory,
        *,
        name: str | None = None,
        mailbox: p.MailboxSpec | None = None,
        tags: Iterable[str] = (),
    ) -> p.ActorHandle:
        if mailbox is not None:
            raise p.Unsupported(_NOT_BOUNDED)
        aid = next(self._ids)
        cell = _Cell(self, aid, name or f"pykka-{aid}", factory)
        self._cells.append(cell)
        cell.move("STARTING", "spawn")
        cell.ref = self._host.start(cell)
        await cell.running.wait()
        return cell

    async def spawn_supervisor(self, *args: Any, **kwargs: Any) -> p.SupervisorHandle:
        raise p.Unsupported(PykkaRuntime.missing["supervision"])

    async def stop(self, ref: p.ActorHandle, timeout_s: float = 5.0) -> None:
        if not isinstance(ref, _Cell):
            raise TypeError(f"{ref!r} is not a Pykka handle")
        if ref.ref is None or not ref.ref.is_alive():
            return
        if ref.state == "RUNNING":
            ref.move("STOPPING", "stop requested")
        ref.ref.stop(block=False)
        try:
            await asyncio.wait_for(ref.ended.wait(), timeout_s)
        except TimeoutError:
            raise p.ActorRuntimeError(f"{ref.name} did not stop within {timeout_s:g} s") from None

    async def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop in reverse start order; a handler still running at the deadline is cancelled."""
        deadline = self.loop.time() + timeout_s
        for cell in reversed(self._cells):
            try:
                await self.stop(cell, max(0.01, deadline - self.loop.time()))
            except p.ActorRuntimeError:
                cell.cancel_pending()
        for cell in self._cells:
            if not cell.ended.is_set():
                cell.cancel_pending()
                try:
                    await asyncio.wait_for(cell.ended.wait(), 1.0)
                except TimeoutError:
                    pass
        threads = [c.thread for c in self._cells if c.thread is not None]
        left = max(0.5, deadline - self.loop.time())

        def join_all() -> None:  # an ended actor's thread only has Pykka's teardown left
            for t in threads:
                t.join(left / max(1, len(threads)))

        await asyncio.to_thread(join_all)

    def live_workers(self) -> list[str]:
        return [c.thread.name for c in self._cells if c.thread is not None and c.thread.is_alive()]


class PykkaRuntime(p.Capabilities):
    """Pykka 4 threading actors; what it cannot express is listed with the reason."""

    name = "pykka"
    host: type[PykkaHost] = PykkaHost
    missing: dict[str, str] = {
        "priority_mailbox": "Pykka mailboxes are FIFO queues without message priorities",
        "bounded_mailbox": _NOT_BOUNDED,
        **{o.capability: "Pykka has no overflow policies" for o in p.Overflow},
        "supervision": "Pykka has no supervisors: a failed actor stops and is never restarted",
        "strategy:one_for_all": "Pykka has no supervision strategies",
        "strategy:rest_for_one": "Pykka has no supervision strategies",
        "restart:exponential_backoff": "Pykka has no restart policies",
        "registry": (
            "Pykka's ActorRegistry finds actors by class or URN only: "
            "no names, no service tags, no death watch"
        ),
        "router": "Pykka has no routers",
        "broadcast": (
            "Pykka has no broadcast groups (ActorRegistry.broadcast targets a class "
            "and reports no delivery count)"
        ),
        "pipeline": "Pykka has no pipelines",
        "stats": "Pykka keeps no per-actor counters (processed, restarts, handler latency)",
        "dead_letters": "Pykka has no dead letters: a tell to a stopped actor raises, "
        "mail left in a stopped actor's inbox is discarded",
    }

    def create_system(
        self, seed: int, *, name: str = "harness", default_mailbox: p.MailboxSpec | None = None
    ) -> PykkaSystem:
        if default_mailbox is not None:
            raise p.Unsupported(_NOT_BOUNDED)
        return PykkaSystem(seed, name, self.host)

    def make_router(
        self,
        refs: Sequence[p.ActorHandle],
        strategy: Literal["round_robin", "least_loaded"],
        rng: random.Random | None = None,
    ) -> p.Router:
        raise p.Unsupported(self.missing["router"])

    def make_broadcast(self, refs: Sequence[p.ActorHandle]) -> p.Broadcast:
        raise p.Unsupported(self.missing["broadcast"])

    def make_pipeline(self, stages: Sequence[p.ActorHandle]) -> p.Pipeline:
        raise p.Unsupported(self.missing["pipeline"])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pykka>"
