"""ActorCell: the machinery behind an ActorRef (message loop, start, restart, stop, kill).

Kept apart from ref.py so the public send API reads on its own. The loop drains the mailbox
without yielding while it has work (with a fairness yield every few hundred messages) and inlines
the base Mailbox's deques and the latency histogram bucket, so a busy actor costs close to a bare
asyncio.Queue consumer.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from .actor import Actor
from .errors import ActorError, ActorKilled, ActorStartError, ActorStopped
from .lifecycle import TRANSITIONS, LifecycleState
from .mailbox import EMPTY, Mailbox, Priority
from .signals import ChildExited, ChildFailed, ChildKind
from .stats import _BUCKET_LUT, ActorStats

if TYPE_CHECKING:
    from .ref import ActorRef
    from .system import ActorSystem

_S = LifecycleState
_FAIRNESS = 512  # messages handled before the loop yields to other tasks
_CRITICAL = Priority.CRITICAL
_DEFAULT_ON_STOP = Actor.on_stop
_NO_COUNTS: Any = ()  # never indexed: the loop exits before recording anything


class ActorCell:
    """Runtime state of one actor; ActorRef (ref.py) adds the public API on top."""

    id: int
    name: str | None
    system: ActorSystem
    kind: ChildKind
    stats: ActorStats
    _factory: Any
    _instance: Actor
    _mailbox: Mailbox
    _parent: ActorCell | None
    _state: LifecycleState
    _task: asyncio.Task | None
    _accepting: bool
    _halt: bool
    _draining: bool
    _self_stop: str | None
    _self_stop_final: bool
    _incarnation: int
    _internal: bool
    _stopping: asyncio.Future | None
    _busy: asyncio.Future | None

    def _me(self) -> ActorRef:
        """This cell as the ActorRef it always is (cells are only created as refs)."""
        return self  # type: ignore[return-value]

    @property
    def label(self) -> str:
        return f"'{self.name}' (#{self.id})" if self.name else f"#{self.id}"

    # -- lifecycle internals -------------------------------------------------------------
    def _set_state(self, new: LifecycleState, reason: str) -> None:
        old = self._state
        if old is new:
            return
        if new not in TRANSITIONS[old]:
            raise ActorError(
                f"illegal lifecycle transition {old.value} -> {new.value} for {self!r}"
            )
        self._state = new
        if not self._internal:
            self.system._notify_lifecycle(self._me(), old, new, reason)

    def _bind(self, instance: Actor) -> None:
        instance.ref = self._me()
        instance.system = self.system
        self._instance = instance

    async def _start(self) -> None:
        """UNINITIALIZED -> STARTING -> RUNNING; on_start failure ends the actor (raised)."""
        self._set_state(_S.STARTING, "spawn")
        self._bind(self._instance)
        self._busy = asyncio.get_running_loop().create_future()
        try:
            await self._instance.on_start()
        except Exception as e:
            self.stats.failures += 1
            if self._state is _S.STARTING:
                self._set_state(_S.FAILED, f"on_start raised {e!r}")
            self.system._notify_failure(self._me(), e)
            self._accepting = False
            self._mailbox.close()
            self._dead_letter_rest("actor_stopped")
            self._finish(f"start failed: {e!r}")
            raise ActorStartError(f"actor {self.label} failed to start: {e!r}") from e
        finally:
            self._busy.set_result(None)
            self._busy = None  # a done future kept per idle actor is only garbage to track
        if self._state is not _S.STARTING:  # stopped or killed while on_start ran
            raise ActorStopped(f"actor {self.label} was stopped while starting")
        self._set_state(_S.RUNNING, "started")
        self._start_loop()

    def _start_loop(self) -> None:
        self._halt = False
        self._draining = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"actor-{self.id}-{self.name or ''}"
        )

    async def _run(self) -> None:
        # Hot path. Locals instead of attribute lookups; the base Mailbox's deques are popped
        # inline (a subclass, e.g. a deliberately broken one, goes through get_nowait); the
        # latency histogram bucket is computed inline (see stats._bucket).
        mb = self._mailbox
        inline = type(mb).get_nowait is Mailbox.get_nowait
        get = mb.get_nowait
        q0, q1, q2, q3 = mb._queues if inline else (None, None, None, None)
        putters = mb._putters if inline else None
        stats = self.stats
        system = self.system
        hooks = system._hooks
        me = self._me()
        inst = self._instance
        direct = inst._uses_default_receive()
        resolve = inst._resolve
        cache = inst.__dict__.setdefault("_alys_dispatch", {})
        clock = perf_counter_ns
        lut = _BUCKET_LUT
        lut_n = len(lut)
        empty = EMPTY
        fairness = _FAIRNESS
        n = 0
        if not mb._size and not (self._halt or self._draining):
            await mb.wait_nonempty()  # an actor that never gets mail never allocates a histogram
        if not mb._size and (self._halt or self._draining):
            counts = _NO_COUNTS  # leaving without a message: nothing will be recorded
        else:
            counts = stats.handler_latency.counts
        # One clock read per message: the latency of a message runs from the moment the loop
        # was ready for it (end of the previous message, or wake-up) to the end of its handler.
        t0 = clock()
        while True:
            if inline:
                if q0:
                    env = q0.popleft()
                elif q1:
                    env = q1.popleft()
                elif q2:
                    env = q2.popleft()
                elif q3:
                    env = q3.popleft()
                else:
                    if self._halt or self._draining:
                        break
                    n = 0
                    await mb.wait_nonempty()
                    t0 = clock()
                    continue
                mb._size -= 1
                if putters:
                    mb._wake_putter()
            else:
                env = get()
                if env is empty:
                    if self._halt or self._draining:
                        break
                    n = 0
                    await mb.wait_nonempty()
                    t0 = clock()
                    continue
            msg, fut, prio = env
            if hooks:
                system._run_hooks("dequeued", me, msg, prio)
            try:
                if direct:
                    fn, is_async = cache.get(type(msg)) or resolve(type(msg))
                    r = fn(msg)
                    if is_async:
                        r = await r
                else:
                    r = await inst.receive(msg)
            except asyncio.CancelledError:
                if fut is not None and not fut.done():
                    fut.set_exception(ActorKilled(f"actor {self.label} was killed"))
                raise
            except Exception as e:
                t1 = clock()
                stats.handler_latency.record_ns(t1 - t0)
                t0 = t1
                stats.failures += 1
                if fut is not None and not fut.done():
                    fut.set_exception(e)
                if hooks:
                    system._run_hooks("processed", me, msg, prio)
                if self._state is _S.RUNNING and self._accepting and not self._halt:
                    self._task = None
                    self._fail(e, f"handler for {type(msg).__name__} raised {e!r}")
                    return
                system._notify_failure(self._me(), e)  # already stopping: report, keep draining
                continue
            t1 = clock()
            d = t1 - t0
            t0 = t1
            if d < lut_n:
                counts[lut[d]] += 1
            else:
                b = d.bit_length()
                counts[(b << 3) | ((d >> (b - 4)) & 7)] += 1
            stats.processed += 1
            if fut is not None and not fut.done():
                fut.set_result(r)
            if hooks:
                system._run_hooks("processed", me, msg, prio)
            if self._halt:
                break
            n += 1
            if n >= fairness:
                n = 0
                await asyncio.sleep(0)
                t0 = clock()
        if self._self_stop is not None:
            reason, final = self._self_stop, self._self_stop_final
            self._self_stop = None
            self._task = None
            if final:
                await self._stop(reason)
            else:
                await self._exit_normally()

    def _fail(self, error: BaseException, reason: str) -> None:
        """Enter FAILED, tell observers, hand the failure to the parent supervisor."""
        self._set_state(_S.FAILED, reason)
        self.system._notify_failure(self._me(), error)
        parent = self._parent
        if parent is not None:
            parent._post_internal(ChildFailed(self._me(), error, self._incarnation))

    def _post_internal(self, msg: Any) -> None:
        """Deliver a runtime message (never dropped; ignored once this actor is stopping)."""
        if self._accepting:
            self._mailbox.put_nowait((msg, None, _CRITICAL), _CRITICAL)

    def _request_self_stop(self, reason: str = "normal exit", final: bool = False) -> None:
        self._self_stop = reason
        self._self_stop_final = final
        if final:  # refuse new mail, finish what is queued, then stop for good
            self._accepting = False
            self._mailbox.close()
            self._draining = True
        else:
            self._halt = True
        self._mailbox.wake()

    async def _exit_normally(self) -> None:
        parent = self._parent
        if (
            self.kind is ChildKind.PERMANENT
            and parent is not None
            and parent._accepting
            and self._accepting
        ):
            self._set_state(_S.STOPPING, "normal exit (permanent child: supervisor decides)")
            parent._post_internal(ChildExited(self._me(), self._incarnation))
            return
        await self._stop("normal exit")

    async def _halt_loop(self, timeout: float) -> None:  # noqa: ASYNC109
        """Stop the loop after its current message (used before a restart)."""
        task = self._task
        if task is None or task.done():
            self._task = None
            return
        self._halt = True
        self._mailbox.wake()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task})
        self._task = None
        self._halt = False

    async def _restart(self, error: BaseException, reason: str, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        """Replace the instance with a fresh one from the factory. False if that failed."""
        if not await self._teardown(error, reason, timeout):
            return False
        return await self._bring_up(error)

    async def _teardown(self, error: BaseException, reason: str, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        """First half of a restart: halt the loop, enter RECOVERING, run pre_restart."""
        if self._state is _S.RUNNING:
            self._set_state(_S.STOPPING, reason)
        if self._state is _S.STOPPING:
            await self._halt_loop(timeout)
        if self._state is _S.STOPPED or not self._accepting:
            return False
        self._set_state(_S.RECOVERING, reason)
        try:
            await self._instance.pre_restart(error)
        except Exception as e:  # reported, but the restart goes on: the old one is gone
            self.system._notify_failure(self._me(), e)
        return True

    async def _bring_up(self, error: BaseException) -> bool:
        """Second half: fresh instance from the factory, post_restart, RUNNING."""
        if self._state is not _S.RECOVERING:
            return False
        self._busy = asyncio.get_running_loop().create_future()
        self._incarnation += 1
        try:
            new = self._factory()
            self._bind(new)
            await new.post_restart(error)
        except Exception as e:
            self.stats.failures += 1
            if self._state is _S.RECOVERING:
                self._fail(e, f"restart failed: {e!r}")
            else:
                self.system._notify_failure(self._me(), e)
            return False
        finally:
            self._busy.set_result(None)
            self._busy = None
        if self._state is not _S.RECOVERING:  # stopped or killed during the restart
            return False
        self.stats.restarts += 1
        self._set_state(_S.RUNNING, "restarted")
        self._start_loop()
        return True

    async def _stop(self, reason: str = "stopped", timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Final graceful stop: refuse new mail, drain what is queued, run on_stop."""
        if self._state is _S.STOPPED:
            return
        current = asyncio.current_task()
        if self._task is not None and self._task is current:
            # stopping from inside our own handler: finish the queue, then stop for good
            self._request_self_stop(reason, final=True)
            return
        if self._stopping is not None:
            await asyncio.shield(self._stopping)
            return
        self._stopping = asyncio.get_running_loop().create_future()
        try:
            await self._do_stop(reason, timeout)
        finally:
            if not self._stopping.done():
                self._stopping.set_result(None)

    async def _do_stop(self, reason: str, timeout: float) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._accepting = False
        self._mailbox.close()
        self._on_stop_requested()
        busy = self._busy
        if busy is not None and not busy.done():  # let on_start/post_restart finish first
            await asyncio.wait({busy}, timeout=max(0.0, deadline - loop.time()))
            if self._state is _S.STOPPED:
                return
        was_started = self._state is not _S.UNINITIALIZED
        if was_started:
            self._set_state(_S.STOPPING, reason)
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            self._draining = True
            self._mailbox.wake()
            done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
            if not done:
                task.cancel()
                await asyncio.wait({task})
        self._task = None
        self._dead_letter_rest("actor_stopped")
        await self._stop_children(reason, max(0.0, deadline - loop.time()))
        if was_started:
            try:
                await asyncio.wait_for(
                    self._instance.on_stop(), timeout=max(0.001, deadline - loop.time())
                )
            except Exception as e:  # on_stop errors are reported, the stop still completes
                self.system._notify_failure(self._me(), e)
        self._finish(reason)

    def _stop_if_idle(self, reason: str) -> asyncio.Task | None:
        """Stop at once, without a loop round trip, if nothing can observe the difference.

        Why: a graceful stop awaits the message loop's exit and an on_stop with a timeout,
        several event-loop iterations per actor; stopping 100,000 idle actors one by one took
        8-9 s. An actor qualifies only when its loop is parked on an empty mailbox, nothing is
        starting or stopping it, and on_stop is the default no-op: then the lifecycle
        observers see exactly the transitions of a graceful stop. Returns the loop task (which
        ends on its next wake-up) for the caller to await, or None if the actor does not
        qualify and needs the ordinary ``_stop``.
        """
        mb = self._mailbox
        task = self._task
        getter = mb._getter
        if (
            self._state is not _S.RUNNING
            or type(mb).close is not Mailbox.close
            or mb._size
            or task is None
            or task.done()
            or getter is None
            or getter.done()
            or self._busy is not None
            or self._stopping is not None
            or type(self._instance).on_stop is not _DEFAULT_ON_STOP
        ):
            return None
        self._accepting = False
        self._draining = True
        # Mailbox.close inlined: an empty mailbox has no waiting producers, so closing it is
        # setting the flag and waking the parked loop, which then sees an empty mailbox while
        # draining and ends
        mb.closed = True
        if mb._putters:  # pragma: no cover - producers only wait on a full mailbox
            mb.close()
        else:
            mb._getter = None
            getter.set_result(None)
        self._task = None
        system = self.system
        if self._internal or not system._lifecycle_observers:
            # nobody watches transitions: RUNNING -> STOPPING -> STOPPED (both legal) at once
            self._state = _S.STOPPED
        else:
            self._set_state(_S.STOPPING, reason)
            self._set_state(_S.STOPPED, reason)
        system._on_terminated(self._me(), reason)
        return task

    async def _stop_children(self, reason: str, timeout: float) -> None:  # noqa: ASYNC109
        """Overridden by SupervisorRef; plain actors have no children."""

    def _on_stop_requested(self) -> None:
        """Overridden by SupervisorRef (interrupts a restart backoff)."""

    async def _kill(self, reason: str = "killed") -> None:
        """Immediate stop: cancel the loop, skip on_stop, kill children."""
        if self._state is _S.STOPPED:
            return
        self._accepting = False
        self._halt = True  # if we are killed from our own handler, the loop ends after it
        self._mailbox.close()
        self._on_stop_requested()
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})
        self._task = None
        self._dead_letter_rest("actor_stopped")
        await self._kill_children()
        if self._state is not _S.STOPPED:
            self._finish(reason)

    async def _kill_children(self) -> None:
        """Overridden by SupervisorRef."""

    def _dead_letter_rest(self, reason: str) -> None:
        leftovers = self._mailbox.drain()
        dl = self.system.dead_letters
        for env, prio in leftovers:
            msg, fut, _ = env if isinstance(env, tuple) and len(env) == 3 else (env, None, prio)
            self.stats.dropped += 1
            dl.publish(msg, self._me(), reason, prio)
            if fut is not None and not fut.done():
                fut.set_exception(
                    ActorStopped(f"actor {self.label} stopped before handling {type(msg).__name__}")
                )

    def _finish(self, reason: str) -> None:
        self._accepting = False
        if self._state is not _S.STOPPED:
            self._set_state(_S.STOPPED, reason)
        self.system._on_terminated(self._me(), reason)
