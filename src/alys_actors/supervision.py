"""Supervision: strategies, restart policies, child kinds, restart intensity and escalation.

A supervisor is itself an actor. Child failures reach it as messages, so it handles them one at a
time in arrival order and a restart never races another restart. Escalation is simply the
supervisor failing: its own parent then applies its own strategy, exactly like any other child.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

from .actor import Actor, handler
from .errors import DuplicateName, Escalation, NormalExit
from .lifecycle import LifecycleState
from .mailbox import MailboxConfig
from .ref import ActorRef
from .signals import ChildExited, ChildFailed, ChildKind

_S = LifecycleState


class Strategy(str, Enum):
    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"


@dataclass(frozen=True)
class RestartPolicy:
    """Whether and when to restart; build with always(), never() or exponential_backoff()."""

    kind: str = "always"
    base_s: float = 0.0
    cap_s: float = 0.0
    jitter: float = 0.0

    @classmethod
    def always(cls) -> RestartPolicy:
        return cls("always")

    @classmethod
    def never(cls) -> RestartPolicy:
        return cls("never")

    @classmethod
    def exponential_backoff(cls, base_s: float, cap_s: float, jitter: float = 0.1) -> RestartPolicy:
        if not base_s > 0 or not cap_s >= base_s:
            raise ValueError(
                f"exponential_backoff needs 0 < base_s <= cap_s, got {base_s}, {cap_s}"
            )
        if not 0 <= jitter < 1:
            raise ValueError(f"exponential_backoff jitter must be within [0, 1), got {jitter}")
        return cls("exponential_backoff", float(base_s), float(cap_s), float(jitter))

    @property
    def restarts(self) -> bool:
        return self.kind != "never"

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before restart number `attempt` (1-based); jitter from rng only."""
        if self.kind != "exponential_backoff":
            return 0.0
        d = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        if self.jitter:
            d *= 1.0 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, min(d, self.cap_s))


@dataclass
class ChildSpec:
    name: str
    factory: Callable[[], Actor]
    kind: ChildKind = ChildKind.PERMANENT
    mailbox: MailboxConfig | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"child name must be a non-empty string, got {self.name!r}")
        if not callable(self.factory):
            raise TypeError(f"child {self.name!r}: factory must be callable, got {self.factory!r}")
        self.kind = ChildKind(self.kind)


class RestartRecord(NamedTuple):
    child: str
    error: str
    delay_s: float
    at: float  # time.monotonic()


class StartChild:
    __slots__ = ("spec",)

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec


class SupervisorRef(ActorRef):
    """Handle of a supervisor: its children (stable refs) and its restart log."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: list[ActorRef] = []
        self._specs: list[ChildSpec] | None = None
        self.restart_log: list[RestartRecord] = []

    def children(self) -> list[ActorRef]:
        return list(self._children)

    def child(self, name: str) -> ActorRef:
        for ref in self._children:
            if ref.spec_name == name:
                return ref
        raise KeyError(f"supervisor {self.label} has no child named {name!r}")

    async def start_child(self, spec: ChildSpec, timeout: float | None = 10.0) -> ActorRef:  # noqa: ASYNC109
        """Add and start a child at the end of the start order."""
        result = await self.ask(StartChild(spec), timeout=timeout)
        if isinstance(result, BaseException):  # a bad request must not crash the supervisor
            raise result
        return result

    async def _stop_children(self, reason: str, timeout: float) -> None:  # noqa: ASYNC109
        for c in reversed(self._children):
            await c._stop(f"supervisor stopping: {reason}", timeout)

    def _on_stop_requested(self) -> None:
        inst = self._instance
        if isinstance(inst, Supervisor):
            inst._stop_requested.set()

    async def _kill_children(self) -> None:
        for c in reversed(self._children):
            await c._kill("supervisor killed")


class Supervisor(Actor):
    """The supervisor behaviour; use ActorSystem.spawn_supervisor or ChildSpec(factory=...)."""

    def __init__(
        self,
        children: list[ChildSpec],
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        policy: RestartPolicy | None = None,
        max_restarts: int = 3,
        within_s: float = 5.0,
    ) -> None:
        names = [c.name for c in children]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise DuplicateName(f"duplicate child names in supervisor spec: {sorted(dup)}")
        if max_restarts < 0 or within_s <= 0:
            raise ValueError(
                f"need max_restarts >= 0 and within_s > 0, got {max_restarts}, {within_s}"
            )
        self.specs = list(children)
        self.strategy = Strategy(strategy)
        self.policy = policy or RestartPolicy.always()
        self.max_restarts = max_restarts
        self.within_s = within_s
        self._restart_times: list[float] = []
        self._stop_requested = asyncio.Event()  # cuts a backoff short when we are stopped
        self._attempts: dict[str, tuple[int, float]] = {}

    @property
    def sref(self) -> SupervisorRef:
        return self.ref  # type: ignore[return-value]

    async def on_start(self) -> None:
        sref = self.sref
        if sref._specs is None:
            sref._specs = list(self.specs)
        sref._children = []
        started: list[ActorRef] = []
        try:
            for spec in list(sref._specs):
                started.append(await self._start_spec(spec))
        except BaseException:
            for c in reversed(started):
                await c._stop("sibling failed to start")
            raise

    async def on_stop(self) -> None:
        for c in reversed(self.sref._children):
            await c._stop("supervisor stopping")

    async def _start_spec(self, spec: ChildSpec) -> ActorRef:
        sref = self.sref
        path = f"{sref.name}/{spec.name}"
        ref = self.system._make_ref(spec.factory, path, spec.mailbox, spec.kind, sref)
        ref.spec_name = spec.name
        await self.system._register_and_start(ref)
        sref._children.append(ref)
        return ref

    @handler(StartChild)
    async def _on_start_child(self, m: StartChild) -> ActorRef | Exception:
        # errors are returned, not raised: a bad request must not crash the supervisor
        sref = self.sref
        assert sref._specs is not None
        if any(s.name == m.spec.name for s in sref._specs):
            return DuplicateName(
                f"supervisor {sref.label} already has a child named {m.spec.name!r}"
            )
        sref._specs.append(m.spec)
        try:
            return await self._start_spec(m.spec)
        except Exception as e:
            sref._specs.remove(m.spec)
            return e

    @handler(ChildExited)
    async def _on_child_exited(self, m: ChildExited) -> None:
        ref = m.ref
        if ref._incarnation == m.incarnation and ref.state is _S.STOPPING and ref._accepting:
            await self._handle(ref, NormalExit(f"child {ref.label} exited normally"))

    @handler(ChildFailed)
    async def _on_child_failed(self, m: ChildFailed) -> None:
        ref = m.ref
        if ref._incarnation == m.incarnation and ref.state is _S.FAILED:
            await self._handle(ref, m.error)

    def _spec_name(self, ref: ActorRef) -> str:
        return ref.spec_name or ref.name or str(ref.id)

    def _over_intensity(self, ref: ActorRef, now: float) -> bool:
        self._restart_times = [t for t in self._restart_times if now - t < self.within_s]
        return len(self._restart_times) >= self.max_restarts

    async def _handle(self, ref: ActorRef, error: BaseException) -> None:
        if not self.sref._accepting:
            return  # we are stopping: every child is stopped with us, none restarted
        if ref.kind is ChildKind.TEMPORARY or not self.policy.restarts:
            why = "temporary child" if ref.kind is ChildKind.TEMPORARY else "restart policy never"
            await ref._stop(f"not restarted ({why}) after {error!r}")
            return
        now = time.monotonic()
        if self._over_intensity(ref, now):
            await self._escalate(ref, error)
            return
        self._restart_times.append(now)
        name = self._spec_name(ref)
        attempt, last = self._attempts.get(name, (0, now))
        attempt = 1 if now - last >= self.within_s else attempt + 1
        self._attempts[name] = (attempt, now)
        delay = self.policy.delay(attempt, self.system.rng)
        self.sref.restart_log.append(RestartRecord(name, repr(error), delay, now))
        if delay > 0:
            try:
                await asyncio.wait_for(self._stop_requested.wait(), delay)
                return  # we are being stopped: the child is stopped with us, not restarted
            except TimeoutError:
                pass
        await self._restart_scope(ref, error)

    def _scope(self, ref: ActorRef) -> list[ActorRef]:
        kids = self.sref._children
        if self.strategy is Strategy.ONE_FOR_ONE:
            return [ref]
        if self.strategy is Strategy.ONE_FOR_ALL:
            return list(kids)
        return kids[kids.index(ref) :]

    async def _restart_scope(self, ref: ActorRef, error: BaseException) -> None:
        scope = [c for c in self._scope(ref) if c._accepting and c.state is not _S.STOPPED]
        reason = f"restart after {self._spec_name(ref)} failed: {error!r}"
        down: list[ActorRef] = []
        for c in reversed(scope):  # take the scope down in reverse start order...
            if c is not ref and c.kind is ChildKind.TEMPORARY:
                await c._stop(f"temporary child not restarted ({reason})")
            elif await c._teardown(error, reason):
                down.append(c)
        for c in reversed(down):  # ...and bring it back up in start order
            await c._bring_up(error)

    async def _escalate(self, ref: ActorRef, error: BaseException) -> None:
        sref = self.sref
        n = len(self._restart_times) + 1
        for c in reversed(sref._children):
            await c._stop("supervisor escalating: restart intensity exceeded")
        raise Escalation(
            f"supervisor {sref.label}: {n} restarts needed within {self.within_s:g}s exceed "
            f"max_restarts={self.max_restarts}; last failure in {self._spec_name(ref)}: {error!r}"
        ) from error


class RootGuardian(Supervisor):
    """Parent of unsupervised actors and top-level supervisors.

    Intensity is tracked per child so one crashing actor never takes others down; a child beyond
    intensity, or an escalating top-level supervisor, is stopped and reported, not restarted.
    """

    def __init__(self) -> None:
        super().__init__([], Strategy.ONE_FOR_ONE, RestartPolicy.always(), 3, 5.0)
        self._per_child: dict[int, list[float]] = {}
        self._tasks: set[asyncio.Task] = set()

    async def on_start(self) -> None:
        self.sref._specs = []

    async def on_stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)

    def _in_background(self, coro: Any) -> None:
        # top-level actors are independent: a slow restart of one must not delay another's
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.system._notify_failure(self.ref, task.exception())  # type: ignore[arg-type]

    async def _on_child_failed(self, m: ChildFailed) -> None:
        self._in_background(super()._on_child_failed(m))

    async def _on_child_exited(self, m: ChildExited) -> None:
        self._in_background(super()._on_child_exited(m))

    async def _handle(self, ref: ActorRef, error: BaseException) -> None:
        if isinstance(error, Escalation) or isinstance(ref, SupervisorRef):
            await ref._stop(f"escalated to root: {error}")
            return
        if ref.kind is ChildKind.TEMPORARY:
            await ref._stop(f"not restarted (temporary) after {error!r}")
            return
        now = time.monotonic()
        times = [t for t in self._per_child.get(ref.id, []) if now - t < self.within_s]
        if len(times) >= self.max_restarts:
            self._per_child.pop(ref.id, None)
            esc = Escalation(
                f"actor {ref.label}: restart intensity exceeded ({len(times) + 1} failures within "
                f"{self.within_s:g}s, max_restarts={self.max_restarts}); last failure: {error!r}"
            )
            esc.__cause__ = error
            self.system._notify_failure(ref, esc)
            await ref._stop("restart intensity exceeded")
            return
        times.append(now)
        self._per_child[ref.id] = times
        self.sref.restart_log.append(RestartRecord(ref.name or str(ref.id), repr(error), 0.0, now))
        await ref._restart(error, f"restart after failure: {error!r}")
