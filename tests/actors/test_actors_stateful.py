"""Hypothesis stateful tests: the runtime against a simple sequential model.

Each actor sits under its own one_for_one supervisor and is normally *paused* (blocked inside a
handler), so messages pile up in its mailbox exactly as the model predicts; `release` lets it
drain and compares the handled order, replies, drops, dead letters, restarts and escalation with
the model. Checked: FIFO within priority and priority order, exact drop counts per policy, no
loss under backpressure, restart counts within intensity, escalation beyond it.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from alys_actors import (
    Actor,
    ActorStopped,
    ActorSystem,
    ChildSpec,
    Escalation,
    LifecycleState,
    MailboxConfig,
    MailboxFull,
    OverflowPolicy,
    Priority,
    handler,
)

POLICIES = list(OverflowPolicy)
PRIOS = list(Priority)
WINDOW_S = 600.0  # every failure of a test run falls inside one intensity window


@dataclass(frozen=True)
class Msg:
    seq: int


@dataclass(frozen=True)
class Boom:
    seq: int


@dataclass
class Pause:
    gate: asyncio.Event
    entered: asyncio.Event


class Probe(Actor):
    """Logs to a list that outlives restarts; Boom raises after logging."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log

    @handler(Pause)
    async def on_pause(self, m: Pause) -> None:
        m.entered.set()
        await m.gate.wait()

    @handler(Msg)
    def on_msg(self, m: Msg) -> int:
        self.log.append(m.seq)
        return m.seq

    @handler(Boom)
    def on_boom(self, m: Boom) -> None:
        self.log.append(("boom", m.seq))
        raise RuntimeError(f"boom {m.seq}")


@dataclass
class Model:
    name: str
    capacity: int
    policy: OverflowPolicy
    max_restarts: int
    levels: list[list[tuple[Any, asyncio.Future | None]]] = field(
        default_factory=lambda: [[], [], [], []]
    )
    failures: int = 0
    dead: list[tuple[int, str]] = field(default_factory=list)  # (seq, reason) expected
    alive: bool = True

    @property
    def size(self) -> int:
        return sum(map(len, self.levels))

    def put(self, item: Any, prio: Priority) -> tuple[str, Any]:
        """Model of one non-waiting put: ("ok"|"dropped"|"raise", evicted item or None)."""
        if self.size < self.capacity:
            self.levels[prio].append(item)
            return "ok", None
        p = self.policy
        if p in (OverflowPolicy.BACKPRESSURE, OverflowPolicy.REJECT):
            self.dead.append((item[0].seq, "rejected"))
            return "raise", None
        if p is OverflowPolicy.DROP_NEWEST:
            self.dead.append((item[0].seq, "dropped_newest"))
            return "dropped", None
        lowest = max(i for i, lv in enumerate(self.levels) if lv)
        if p is OverflowPolicy.DROP_OLDEST:
            if lowest < prio:  # everything queued is more urgent: the newcomer goes
                self.dead.append((item[0].seq, "dropped_oldest"))
                return "dropped", None
            evicted = self.levels[lowest].pop(0)
            self.levels[prio].append(item)
            self.dead.append((evicted[0].seq, "dropped_oldest"))
            return "ok", evicted
        if lowest > prio:  # DROP_LOWEST_PRIORITY
            evicted = self.levels[lowest].pop()
            self.levels[prio].append(item)
            self.dead.append((evicted[0].seq, "dropped_lowest_priority"))
            return "ok", evicted
        self.dead.append((item[0].seq, "dropped_lowest_priority"))
        return "dropped", None

    def drain(
        self, stopping: bool = False
    ) -> tuple[list[Any], list[tuple[Any, asyncio.Future | None]], int]:
        """Expected handled log, items never handled (escalation), restarts that happen.

        While stopping, failures are reported but neither restart nor escalate: queued mail is
        still handled (graceful stop).
        """
        order = [it for lv in self.levels for it in lv]
        self.levels = [[], [], [], []]
        log: list[Any] = []
        restarts = 0
        for i, (m, _fut) in enumerate(order):
            if isinstance(m, Boom):
                log.append(("boom", m.seq))
                if stopping:
                    continue
                self.failures += 1
                if self.failures > self.max_restarts:
                    self.alive = False
                    rest = order[i + 1 :]
                    self.dead.extend((r[0].seq, "actor_stopped") for r in rest)
                    return log, rest, restarts
                restarts += 1
            else:
                log.append(m.seq)
        return log, [], restarts


class ActorRuntimeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.system = ActorSystem(seed=0)
        self.seq = itertools.count()
        self.models: dict[str, Model] = {}
        self.refs: dict[str, Any] = {}
        self.sups: dict[str, Any] = {}
        self.logs: dict[str, list[Any]] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.asks: dict[str, list[tuple[Msg, asyncio.Task]]] = {}
        self.dead_seen: list[tuple[str, int, str]] = []
        self.escalated: list[str] = []
        self.restarts_seen: dict[str, int] = {}
        self.system.dead_letters.subscribe(self._on_dead)
        self.system.add_failure_observer(self._on_failure)

    # -- plumbing ------------------------------------------------------------------------
    def _on_dead(self, d: Any) -> None:
        if isinstance(d.msg, (Msg, Boom)):
            self.dead_seen.append((d.target.name, d.msg.seq, d.reason))

    def _on_failure(self, ref: Any, e: BaseException) -> None:
        if isinstance(e, Escalation):
            self.escalated.append(ref.name)

    def go(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 10))

    async def _until(self, pred: Any, what: str) -> None:
        for _ in range(5000):
            if pred():
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"timed out waiting for {what}")

    async def _pause(self, name: str) -> None:
        gate, entered = asyncio.Event(), asyncio.Event()
        self.gates[name] = gate
        self.refs[name].tell_nowait(Pause(gate, entered), Priority.CRITICAL)
        await asyncio.wait_for(entered.wait(), 5)

    def teardown(self) -> None:
        for g in self.gates.values():
            g.set()
        self.go(self.system.shutdown(timeout=2.0))
        for pending in self.asks.values():
            for _, task in pending:
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved: shutdown fails leftover asks on purpose
        self.loop.close()

    def pick(self, i: int) -> str:
        names = sorted(n for n, m in self.models.items() if m.alive)
        return names[i % len(names)]

    def any_alive(self) -> bool:
        return any(m.alive for m in self.models.values())

    # -- rules ---------------------------------------------------------------------------
    @precondition(lambda self: sum(m.alive for m in self.models.values()) < 4)
    @rule(
        capacity=st.integers(1, 4),
        policy=st.sampled_from(POLICIES),
        max_restarts=st.integers(0, 3),
    )
    def spawn(self, capacity: int, policy: OverflowPolicy, max_restarts: int) -> None:
        name = f"sup{len(self.models)}"
        log: list[Any] = []

        async def spawn() -> None:
            sup = await self.system.spawn_supervisor(
                [ChildSpec("p", lambda: Probe(log), mailbox=MailboxConfig(capacity, policy))],
                max_restarts=max_restarts,
                within_s=WINDOW_S,
                name=name,
            )
            self.sups[name] = sup
            self.refs[name] = sup.child("p")
            await self._pause(name)

        self.go(spawn())
        self.logs[name] = log
        self.asks[name] = []
        self.models[name] = Model(name, capacity, policy, max_restarts)

    @precondition(any_alive)
    @rule(i=st.integers(0, 3), prios=st.lists(st.sampled_from(PRIOS), min_size=1, max_size=6))
    def tell(self, i: int, prios: list[Priority]) -> None:
        name = self.pick(i)
        ref, model = self.refs[name], self.models[name]
        for prio in prios:
            m = Msg(next(self.seq))
            outcome, _ = model.put((m, None), prio)
            try:
                accepted = ref.tell_nowait(m, prio)
            except MailboxFull:
                assert outcome == "raise", (name, m, model.policy)
                continue
            assert accepted == (outcome == "ok"), (name, m, model.policy, outcome)
        assert ref.mailbox.depth == model.size

    @precondition(any_alive)
    @rule(i=st.integers(0, 3), prio=st.sampled_from(PRIOS))
    def fail(self, i: int, prio: Priority) -> None:
        name = self.pick(i)
        model = self.models[name]
        b = Boom(next(self.seq))
        outcome, _ = model.put((b, None), prio)
        try:
            accepted = self.refs[name].tell_nowait(b, prio)
        except MailboxFull:
            assert outcome == "raise"
            return
        assert accepted == (outcome == "ok")

    @precondition(any_alive)
    @rule(i=st.integers(0, 3), prio=st.sampled_from(PRIOS))
    def ask(self, i: int, prio: Priority) -> None:
        name = self.pick(i)
        model = self.models[name]
        if model.size >= model.capacity and model.policy is OverflowPolicy.BACKPRESSURE:
            return  # would wait for room while the actor is paused; covered by burst
        m = Msg(next(self.seq))
        task = self.loop.create_task(self.refs[name].ask(m, priority=prio))
        self.go(asyncio.sleep(0))  # let the ask enqueue
        fut_marker = object()
        outcome, _ = model.put((m, fut_marker), prio)
        if outcome != "ok":
            assert task.done() and isinstance(task.exception(), MailboxFull), outcome
            return
        self.asks[name].append((m, task))

    @precondition(any_alive)
    @rule(i=st.integers(0, 3))
    def release(self, i: int) -> None:
        name = self.pick(i)
        model, ref, log = self.models[name], self.refs[name], self.logs[name]
        before_log = len(log)
        before_restarts = ref.stats.restarts
        expected_log, lost, restarts = model.drain()
        self.gates[name].set()
        alive = model.alive

        async def settle() -> None:
            await self._until(lambda: len(log) - before_log == len(expected_log), "log")
            if alive:
                await self._until(
                    lambda: (
                        ref.stats.restarts - before_restarts == restarts
                        and ref.state is LifecycleState.RUNNING
                        and ref.mailbox.depth == 0
                    ),
                    "restarts",
                )
                await self._pause(name)
            else:
                await self._until(
                    lambda: self.sups[name].state is LifecycleState.STOPPED, "escalation"
                )

        self.go(settle())
        assert log[before_log:] == expected_log
        self._check_asks(name, lost)
        if not alive:
            assert ref.state is LifecycleState.STOPPED
            assert self.escalated.count(name) == 1
            assert ref.stats.restarts == model.max_restarts
            self._check_stopped(name)

    @precondition(
        lambda self: any(
            m.alive and m.policy is OverflowPolicy.BACKPRESSURE for m in self.models.values()
        )
    )
    @rule(i=st.integers(0, 3), n=st.integers(1, 12))
    def burst(self, i: int, n: int) -> None:
        """Backpressure: a sender awaiting room loses nothing and keeps its order."""
        names = sorted(
            n for n, m in self.models.items() if m.alive and m.policy is OverflowPolicy.BACKPRESSURE
        )
        name = names[i % len(names)]
        ref, model, log = self.refs[name], self.models[name], self.logs[name]
        expected_log, lost, restarts = model.drain()
        assert not lost or not model.alive
        if not model.alive:  # an escalating Boom is queued: just let release handle it
            self.gates[name].set()
            self.go(self._until(lambda: self.sups[name].state is LifecycleState.STOPPED, "esc"))
            self._check_asks(name, lost)
            self._check_stopped(name)
            return
        msgs = [Msg(next(self.seq)) for _ in range(n)]
        before_log = len(log)
        before_restarts = ref.stats.restarts

        async def send() -> list[bool]:  # LOW: queues behind everything already there
            return [await ref.tell(m, Priority.LOW) for m in msgs]

        async def run_burst() -> list[bool]:
            sender = asyncio.ensure_future(send())
            await asyncio.sleep(0)
            self.gates[name].set()
            sent = await sender
            want = len(expected_log) + n
            await self._until(lambda: len(log) - before_log == want, "burst drained")
            await self._until(
                lambda: (
                    ref.stats.restarts - before_restarts == restarts
                    and ref.state is LifecycleState.RUNNING
                ),
                "restarts",
            )
            await self._pause(name)
            return sent

        sent = self.go(run_burst())
        assert sent == [True] * n
        assert log[before_log:] == expected_log + [m.seq for m in msgs]
        self._check_asks(name, [])

    @precondition(any_alive)
    @rule(i=st.integers(0, 3))
    def stop(self, i: int) -> None:
        """Graceful stop of a paused actor: everything queued is still handled, in order."""
        name = self.pick(i)
        model, log, ref = self.models[name], self.logs[name], self.refs[name]
        expected_log, lost, _ = model.drain(stopping=True)
        before = len(log)

        async def stop() -> None:
            stopping = asyncio.ensure_future(self.system.stop(self.sups[name]))
            await self._until(lambda: not ref._accepting, "stop begun")
            self.gates[name].set()
            await stopping

        self.go(stop())
        model.alive = False
        assert log[before:] == expected_log
        assert ref.state is LifecycleState.STOPPED and self.sups[name].state is ref.state
        self._check_asks(name, lost)
        self._check_stopped(name)

    # -- checks --------------------------------------------------------------------------
    def _check_asks(self, name: str, lost: list[Any]) -> None:
        lost_seqs = {m.seq for m, _ in lost}
        pending = self.asks[name]
        self.asks[name] = []
        for m, task in pending:
            assert task.done(), f"ask {m} still pending after drain"
            if m.seq in lost_seqs:
                assert isinstance(task.exception(), ActorStopped)
            elif task.exception() is not None:
                assert isinstance(task.exception(), MailboxFull)  # evicted by a drop policy
                assert (f"{name}/p", m.seq) in {(n, s) for n, s, _ in self.dead_seen}
            else:
                assert task.result() == m.seq

    def _check_stopped(self, name: str) -> None:
        ref = self.refs[name]
        assert not ref.is_alive
        try:
            ref.tell_nowait(Msg(-1))
        except ActorStopped:
            pass
        else:
            raise AssertionError("tell to a stopped actor must raise ActorStopped")
        self.models[name].dead.append((-1, "actor_stopped"))

    @invariant()
    def dead_letters_match_model(self) -> None:
        for name, model in self.models.items():
            seen = sorted((s, r) for n, s, r in self.dead_seen if n == f"{name}/p")
            assert seen == sorted(model.dead), (name, seen, sorted(model.dead))

    @invariant()
    def depth_matches_model(self) -> None:
        for name, model in self.models.items():
            if model.alive:
                assert self.refs[name].mailbox.depth == model.size


ActorRuntimeMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
TestActorRuntime = ActorRuntimeMachine.TestCase
