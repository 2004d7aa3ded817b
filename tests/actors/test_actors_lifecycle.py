"""Lifecycle state machine, spawn/stop/kill/shutdown, ask errors, dispatch, hooks and stats."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alys_actors import (
    TRANSITIONS,
    Actor,
    ActorError,
    ActorStartError,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    ChildKind,
    ChildSpec,
    DuplicateName,
    LatencyHistogram,
    LifecycleState,
    MailboxConfig,
    Priority,
    RestartPolicy,
    Strategy,
    UnhandledMessage,
    handler,
)

from .actors_kit import Block, Fail, Get, Recorder, Transitions, run, wait_until

S = LifecycleState


class SlowStart(Actor):
    gate: asyncio.Event

    async def on_start(self) -> None:
        await SlowStart.gate.wait()


class GatedRestart(Recorder):
    """post_restart waits for a gate, so a stop/kill can land while RECOVERING."""

    gate: asyncio.Event

    async def post_restart(self, error: BaseException) -> None:
        await GatedRestart.gate.wait()


class BadRestart(Recorder):
    async def post_restart(self, error: BaseException) -> None:
        raise RuntimeError("cannot come back")


class BadStart(Actor):
    async def on_start(self) -> None:
        raise OSError("port in use")


def all_transitions() -> set[tuple[S, S]]:
    return {(o, n) for o, targets in TRANSITIONS.items() for n in targets}


def test_every_legal_transition_is_reachable_and_observed() -> None:
    """Drive the runtime through every edge of the state machine and check observers saw each."""

    async def main() -> set[tuple[S, S]]:
        async with ActorSystem(seed=1) as system:
            tr = Transitions(system)
            failures: list[tuple[Any, BaseException]] = []
            system.add_failure_observer(lambda r, e: failures.append((r, e)))
            # spawn / handler failure + restart / stop
            a = await system.spawn(Recorder, name="a")
            with pytest.raises(RuntimeError):
                await a.ask(Fail())
            await wait_until(lambda: a.state is S.RUNNING and a.stats.restarts == 1)
            await system.stop(a)
            # on_start failure
            with pytest.raises(ActorStartError, match="port in use"):
                await system.spawn(BadStart, name="bad")
            # kill while running
            k = await system.spawn(Recorder, name="k")
            await system.kill(k)
            # one_for_all: the healthy sibling goes RUNNING -> STOPPING -> RECOVERING
            sup = await system.spawn_supervisor(
                [ChildSpec("x", Recorder), ChildSpec("y", Recorder)],
                strategy=Strategy.ONE_FOR_ALL,
                name="s1",
            )
            sup.child("x").tell_nowait(Fail())
            await wait_until(lambda: sup.child("y").stats.restarts == 1)
            # policy never: FAILED -> STOPPING -> STOPPED
            never = await system.spawn_supervisor(
                [ChildSpec("n", Recorder)], policy=RestartPolicy.never(), name="s2"
            )
            never.child("n").tell_nowait(Fail())
            await wait_until(lambda: never.child("n").state is S.STOPPED)
            # kill while FAILED (supervisor sleeping in backoff)
            slow = await system.spawn_supervisor(
                [ChildSpec("b", Recorder)],
                policy=RestartPolicy.exponential_backoff(5.0, 5.0, 0.0),
                name="s3",
            )
            b = slow.child("b")
            b.tell_nowait(Fail())
            await wait_until(lambda: b.state is S.FAILED)
            await system.kill(b)
            # post_restart raising: RECOVERING -> FAILED
            bad = await system.spawn_supervisor(
                [ChildSpec("r", BadRestart)], policy=RestartPolicy.never(), name="s4"
            )
            bad2 = await system.spawn(BadRestart, name="r2")
            bad2.tell_nowait(Fail())
            await wait_until(lambda: (S.RECOVERING, S.FAILED) in tr.of("r2"))
            await system.stop(bad)
            # kill and stop during post_restart: RECOVERING -> STOPPED / STOPPING
            GatedRestart.gate = asyncio.Event()
            g1 = await system.spawn(GatedRestart, name="g1")
            g2 = await system.spawn(GatedRestart, name="g2")
            g1.tell_nowait(Fail())
            await wait_until(lambda: g1.state is S.RECOVERING)
            await system.kill(g1)
            g2.tell_nowait(Fail())
            await wait_until(lambda: g2.state is S.RECOVERING)
            await system.stop(g2, timeout=0.05)
            GatedRestart.gate.set()
            # on_start still running: STARTING -> STOPPING (stop times out) and -> STOPPED (kill)
            SlowStart.gate = asyncio.Event()
            for nm, how in (("st1", "stop"), ("st2", "kill")):
                spawning = asyncio.ensure_future(system.spawn(SlowStart, name=nm))
                await wait_until(lambda nm=nm: system.lookup(nm) is not None)
                ref = system.lookup(nm)
                assert ref is not None and ref.state is S.STARTING
                if how == "stop":
                    await system.stop(ref, timeout=0.05)
                else:
                    await system.kill(ref)
                SlowStart.gate.set()
                with pytest.raises(ActorStopped, match="while starting"):
                    await spawning
                SlowStart.gate.clear()
            # a ref that never started is stopped straight away
            raw = system._make_ref(Recorder, "raw", None, ChildKind.TRANSIENT, system.root)
            await raw._stop("never started")
            assert failures, "failures must reach failure observers"
            return tr.pairs()

    seen = run(main())
    missing = all_transitions() - seen
    assert not missing, (
        f"transitions never exercised: {sorted((o.value, n.value) for o, n in missing)}"
    )
    assert seen <= all_transitions()


def test_illegal_transition_is_refused() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Recorder)
            with pytest.raises(
                ActorError, match="illegal lifecycle transition running -> starting"
            ):
                ref._set_state(S.STARTING, "bogus")

    run(main())


def test_graceful_stop_drains_queue_runs_on_stop_then_refuses_mail() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            tr = Transitions(system)
            ref = await system.spawn(Recorder, name="r")
            inst = Recorder.instances[-1]
            for i in range(20):
                ref.tell_nowait(i)
            await system.stop(ref)
            assert inst.log == list(range(20)) and inst.stopped == 1
            assert tr.of("r")[-2:] == [(S.RUNNING, S.STOPPING), (S.STOPPING, S.STOPPED)]
            assert not ref.is_alive and ref.state is S.STOPPED
            with pytest.raises(ActorStopped, match="cannot deliver int"):
                ref.tell_nowait(1)
            with pytest.raises(ActorStopped):
                await ref.ask(Get())
            assert system.dead_letters.by_reason == {"actor_stopped": 2}
            await system.stop(ref)  # idempotent

    run(main())


def test_stop_timeout_cancels_stuck_handler_and_fails_pending_asks() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Recorder)
            inst = Recorder.instances[-1]
            stuck = asyncio.ensure_future(ref.ask(Block(asyncio.Event())))
            queued = asyncio.ensure_future(ref.ask("never handled"))
            await asyncio.sleep(0.01)
            await system.stop(ref, timeout=0.1)
            with pytest.raises(ActorStopped):
                await stuck
            with pytest.raises(ActorStopped, match="stopped before handling str"):
                await queued
            assert inst.stopped == 1 and ref.stats.dropped == 1

    run(main())


def test_kill_is_immediate_and_skips_on_stop() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            tr = Transitions(system)
            ref = await system.spawn(Recorder, name="k")
            inst = Recorder.instances[-1]
            stuck = asyncio.ensure_future(ref.ask(Block(asyncio.Event())))
            await wait_until(lambda: ref.stats.received == 1 and ref.mailbox.depth == 0)
            for i in range(5):
                ref.tell_nowait(i)
            await system.kill(ref)
            with pytest.raises(ActorStopped, match="killed"):
                await stuck
            assert inst.stopped == 0 and inst.log == []
            assert system.dead_letters.by_reason == {"actor_stopped": 5}
            assert tr.of("k")[-1] == (S.RUNNING, S.STOPPED)

    run(main())


def test_shutdown_stops_in_reverse_start_order() -> None:
    order: list[str] = []

    class Named(Actor):
        def __init__(self, n: str) -> None:
            self.n = n

        async def on_stop(self) -> None:
            order.append(self.n)

    async def main() -> None:
        system = ActorSystem()
        for n in "abc":
            await system.spawn(lambda n=n: Named(n), name=n)
        await system.spawn_supervisor(
            [ChildSpec("d1", lambda: Named("d1")), ChildSpec("d2", lambda: Named("d2"))], name="d"
        )
        await system.spawn(lambda: Named("e"), name="e")
        await system.shutdown()
        assert order == ["e", "d2", "d1", "c", "b", "a"]
        assert system.actors() == [] and system.registry.names() == []
        with pytest.raises(ActorError, match="shut down"):
            await system.spawn(Recorder)

    run(main())


def test_ask_timeout_names_actor_and_message_type() -> None:
    class Slow:
        pass

    class Sleeper(Actor):
        @handler(Slow)
        async def on_slow(self, _: Slow) -> None:
            await asyncio.sleep(10)

    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Sleeper, name="sleepy")
            with pytest.raises(AskTimeout) as ei:
                await ref.ask(Slow(), timeout=0.05)
            assert isinstance(ei.value, TimeoutError)
            assert "'sleepy'" in str(ei.value) and "Slow" in str(ei.value)
            await system.kill(ref)

    run(main())


def test_handler_error_reaches_asker_observers_and_restarts() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            seen: list[tuple[str | None, str]] = []
            system.add_failure_observer(lambda r, e: seen.append((r.name, str(e))))
            ref = await system.spawn(Recorder, name="f")
            ref.tell_nowait("before")
            with pytest.raises(RuntimeError, match="kaput"):
                await ref.ask(Fail("kaput"))
            ref.tell_nowait("after")
            assert await ref.ask(Get()) == ["after"]  # fresh instance: state reset
            assert seen == [("f", "kaput")]
            assert (ref.stats.failures, ref.stats.restarts) == (1, 1)
            # unsupervised tell failure is not swallowed either
            ref.tell_nowait(Fail("quiet"))
            await wait_until(lambda: len(seen) == 2)

    run(main())


def test_duplicate_name_and_name_reuse_after_stop() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            a = await system.spawn(Recorder, name="dup")
            with pytest.raises(DuplicateName, match="'dup'"):
                await system.spawn(Recorder, name="dup")
            with pytest.raises(DuplicateName):
                await system.spawn_supervisor([], name="dup")
            with pytest.raises(DuplicateName):
                await system.spawn_supervisor([ChildSpec("x", Recorder), ChildSpec("x", Recorder)])
            await system.stop(a)
            b = await system.spawn(Recorder, name="dup")
            assert system.lookup("dup") is b

    run(main())


def test_dispatch_by_mro_sync_handlers_and_unhandled() -> None:
    class Base:
        pass

    class Child(Base):
        pass

    class GrandChild(Child):
        pass

    class Other:
        pass

    class D(Actor):
        @handler(Base)
        def on_base(self, m: Base) -> str:
            return "base"

        @handler(Child)
        async def on_child(self, m: Child) -> str:
            return "child"

    class D2(D):
        @handler(Base)
        def on_base2(self, m: Base) -> str:
            return "overridden"

    async def main() -> None:
        async with ActorSystem() as system:
            seen: list[BaseException] = []
            system.add_failure_observer(lambda r, e: seen.append(e))
            ref = await system.spawn(D)
            assert await ref.ask(Base()) == "base"
            assert await ref.ask(GrandChild()) == "child"
            with pytest.raises(UnhandledMessage, match="no handler for message type Other"):
                await ref.ask(Other())
            assert isinstance(seen[-1], UnhandledMessage)
            ref2 = await system.spawn(D2)
            assert await ref2.ask(Base()) == "overridden"
            with pytest.raises(TypeError):
                handler("not a type")  # type: ignore[arg-type]

    run(main())


def test_receive_override_sees_every_message() -> None:
    class Echo(Actor):
        async def receive(self, message: Any) -> Any:
            return ("echo", message)

    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Echo)
            assert await ref.ask(42) == ("echo", 42)

    run(main())


def test_bad_factories_are_clear_errors() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            with pytest.raises(TypeError, match="not an Actor"):
                await system.spawn(lambda: object())  # type: ignore[arg-type, return-value]
            with pytest.raises(TypeError, match="factory"):
                await system.spawn(42)  # type: ignore[arg-type]

            def broken() -> Actor:
                raise ValueError("no config")

            with pytest.raises(ActorStartError, match="no config"):
                await system.spawn(broken)

    run(main())


def test_priorities_accept_ints_and_reject_garbage() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Recorder)
            assert ref.tell_nowait("x", 0)  # type: ignore[arg-type]
            with pytest.raises(ValueError):
                ref.tell_nowait("x", 9)  # type: ignore[arg-type]

    run(main())


def test_message_hooks_see_enqueue_dequeue_processed_and_cost_nothing_when_removed() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            events: list[tuple[str, Any, Priority]] = []

            def hook(ev: str, ref: Any, msg: Any, prio: Priority) -> None:
                events.append((ev, msg, prio))

            def broken_hook(ev: str, ref: Any, msg: Any, prio: Priority) -> None:
                raise RuntimeError("observer bug")

            system.add_message_hook(hook)
            system.add_message_hook(broken_hook)
            ref = await system.spawn(Recorder)
            await ref.tell("m", Priority.HIGH)
            await wait_until(lambda: len(events) == 3)
            assert events == [
                ("enqueued", "m", Priority.HIGH),
                ("dequeued", "m", Priority.HIGH),
                ("processed", "m", Priority.HIGH),
            ]
            system.remove_message_hook(hook)
            system.remove_message_hook(broken_hook)
            await ref.ask("n")
            assert len(events) == 3
            assert await ref.ask(Get()) == ["m", "n"]

    run(main())


def test_stats_count_and_latency_histogram() -> None:
    class Sleepy(Actor):
        @handler(float)
        async def on_sleep(self, s: float) -> None:
            await asyncio.sleep(s)

    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Sleepy, mailbox=MailboxConfig(50))
            for _ in range(10):
                ref.tell_nowait(0.02)
            await ref.ask(0.0)
            st = ref.stats
            assert (st.received, st.processed, st.failures, st.dropped) == (11, 11, 0, 0)
            assert st.handler_latency.count == 11
            assert 0.02 <= st.handler_latency.percentile(90) < 0.5
            assert st.handler_latency.percentile(1) < 0.02
            snap = st.snapshot()
            assert snap["processed"] == 11 and snap["mailbox_depth"] == 0

    run(main())


def test_latency_histogram_error_bound() -> None:
    h = LatencyHistogram()
    assert h.percentile(50) == 0.0 and h.count == 0 and h.mean == 0.0
    values = [1, 7, 15, 16, 17, 100, 999, 10_000, 123_456, 5_000_000]
    for v in values:
        h.record_ns(v)
    for p in (10, 50, 90, 100):
        exact = sorted(values)[max(0, -(-len(values) * p // 100) - 1)]
        got = h.percentile(p) * 1e9
        assert exact <= got <= exact * 1.13 + 1, (p, exact, got)
    assert h.count == len(values)
    assert abs(h.mean * 1e9 - sum(values) / len(values)) / (sum(values) / len(values)) < 0.13
    with pytest.raises(ValueError):
        h.percentile(101)


def test_stop_self_and_stop_from_inside_handler() -> None:
    class Quitter(Recorder):
        @handler(str)
        async def on_str(self, m: str) -> str:
            if m == "quit":
                self.stop_self()
            if m == "stop-me":
                await self.system.stop(self.ref)
            self.log.append(m)
            return m

    async def main() -> None:
        async with ActorSystem() as system:
            tr = Transitions(system)
            q = await system.spawn(Quitter, name="q")
            q.tell_nowait("quit")
            await wait_until(lambda: q.state is S.STOPPED)
            assert tr.of("q")[-1] == (S.STOPPING, S.STOPPED)
            q2 = await system.spawn(Quitter, name="q2")
            q2.tell_nowait("stop-me")
            await wait_until(lambda: q2.state is S.STOPPED)
            assert Recorder.instances[-1].stopped == 1

    run(main())


def test_injected_failure_goes_to_supervisor() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            seen: list[BaseException] = []
            system.add_failure_observer(lambda r, e: seen.append(e))
            ref = await system.spawn(Recorder)
            await system.fail(ref, RuntimeError("chaos"))
            await wait_until(lambda: ref.stats.restarts == 1 and ref.state is S.RUNNING)
            assert str(seen[0]) == "chaos"
            await system.stop(ref)
            with pytest.raises(ActorError, match="not running"):
                await system.fail(ref)

    run(main())


def test_kill_from_own_handler_ends_the_loop() -> None:
    class Suicidal(Recorder):
        @handler(str)
        async def on_str(self, m: str) -> None:
            await self.system.kill(self.ref)

    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Suicidal, name="s")
            task = ref._task
            ref.tell_nowait("die")
            await wait_until(lambda: ref.state is S.STOPPED and task is not None and task.done())

    run(main())


def test_single_string_tag_and_broken_dead_letter_subscriber() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Recorder, tags="store")
            assert system.registry.lookup_service("store") == [ref]

            def broken(letter: object) -> None:
                raise RuntimeError("subscriber bug")

            system.dead_letters.subscribe(broken)
            await system.stop(ref)
            with pytest.raises(ActorStopped):
                ref.tell_nowait("late")  # the sender sees ActorStopped, not the subscriber bug
            assert system.dead_letters.count == 1
            system.dead_letters.unsubscribe(broken)

    run(main())
