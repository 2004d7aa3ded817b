"""Supervision: strategies, restart policies, intensity, escalation, child kinds, ordering."""

from __future__ import annotations

import random
import time

import pytest

from alys_actors import (
    Actor,
    ActorStartError,
    ActorSystem,
    ChildKind,
    ChildSpec,
    Escalation,
    LifecycleState,
    RestartPolicy,
    Strategy,
    SupervisorRef,
    handler,
)

from .actors_kit import Fail, Get, Recorder, Transitions, run, wait_until

S = LifecycleState


class Journal:
    """Ordered log of starts/stops across actors, to check start and stop order."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def actor(self, name: str) -> type[Actor]:
        journal = self

        class Logged(Recorder):
            async def on_start(self) -> None:
                journal.entries.append(f"start:{name}")

            async def on_stop(self) -> None:
                journal.entries.append(f"stop:{name}")

            @handler(str)
            def on_str(self, m: str) -> str:
                if m == "exit":
                    self.stop_self()
                self.log.append(m)
                return m

        return Logged


def specs(j: Journal, names: str, kind: ChildKind = ChildKind.PERMANENT) -> list[ChildSpec]:
    return [ChildSpec(n, j.actor(n), kind) for n in names]


async def fail_and_wait(sup: SupervisorRef, name: str, restarts: int) -> None:
    sup.child(name).tell_nowait(Fail())
    await wait_until(
        lambda: (
            len(sup.restart_log) >= restarts
            and all(c.state in (S.RUNNING, S.STOPPED) for c in sup.children())
        ),
        what=f"{restarts} restarts settled",
    )


def instances(sup: SupervisorRef) -> dict[str, int]:
    return {c.spec_name: id(c._instance) for c in sup.children()}  # type: ignore[misc]


@pytest.mark.parametrize(
    "strategy, restarted",
    [
        (Strategy.ONE_FOR_ONE, {"b"}),
        (Strategy.ONE_FOR_ALL, {"a", "b", "c"}),
        (Strategy.REST_FOR_ONE, {"b", "c"}),
    ],
)
def test_strategy_scope_and_ordering(strategy: Strategy, restarted: set[str]) -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            j = Journal()
            sup = await system.spawn_supervisor(specs(j, "abc"), strategy=strategy, name="s")
            assert j.entries == ["start:a", "start:b", "start:c"]
            before = instances(sup)
            refs = sup.children()
            for c in refs:
                c.tell_nowait("kept")
            j.entries.clear()
            await fail_and_wait(sup, "b", 1)
            after = instances(sup)
            changed = {n for n in before if before[n] != after[n]}
            assert changed == restarted
            assert sup.children() == refs, "refs are stable handles across restarts"
            # stop in reverse start order, then start in start order (default hooks)
            order = [n for n in "abc" if n in restarted]
            stops = [f"stop:{n}" for n in reversed(order)]
            starts = [f"start:{n}" for n in order]
            if strategy is Strategy.ONE_FOR_ONE:
                assert j.entries == ["stop:b", "start:b"]
            else:
                assert j.entries[: len(stops)] == stops or j.entries[0] == "stop:b"
                assert [e for e in j.entries if e.startswith("start")] == starts
            for c in sup.children():
                assert c.state is S.RUNNING
                assert (await c.ask(Get()) == ["kept"]) == (c.spec_name not in restarted)
            j.entries.clear()
            await system.stop(sup)
            assert j.entries == ["stop:c", "stop:b", "stop:a"]

    run(main())


def test_queued_messages_survive_a_restart() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            ref = await system.spawn(Recorder)
            ref.tell_nowait(Fail())
            for i in range(5):
                ref.tell_nowait(i)
            await wait_until(lambda: ref.stats.restarts == 1)
            assert await ref.ask(Get()) == [0, 1, 2, 3, 4]

    run(main())


def test_restart_policy_never_stops_the_child() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            sup = await system.spawn_supervisor(
                [ChildSpec("a", Recorder), ChildSpec("b", Recorder)], policy=RestartPolicy.never()
            )
            sup.child("a").tell_nowait(Fail())
            await wait_until(lambda: sup.child("a").state is S.STOPPED)
            assert sup.child("b").state is S.RUNNING and sup.state is S.RUNNING
            assert sup.restart_log == []

    run(main())


def test_exponential_backoff_delays_are_seeded_and_waited() -> None:
    policy = RestartPolicy.exponential_backoff(0.02, 0.05, jitter=0.5)

    async def main(seed: int) -> list[float]:
        async with ActorSystem(seed=seed) as system:
            sup = await system.spawn_supervisor(
                [ChildSpec("a", Recorder)], policy=policy, max_restarts=10
            )
            a = sup.child("a")
            waited = []
            for n in range(1, 4):
                t0 = time.monotonic()
                a.tell_nowait(Fail())
                await wait_until(lambda n=n: a.stats.restarts == n and a.state is S.RUNNING)
                waited.append(time.monotonic() - t0)
            delays = [r.delay_s for r in sup.restart_log]
            assert all(w >= d for w, d in zip(waited, delays, strict=True)), (waited, delays)
            return delays

    d1, d2 = run(main(7)), run(main(7))
    assert d1 == d2, "same seed, same jitter"
    rng = random.Random(7)
    assert d1 == [policy.delay(n, rng) for n in (1, 2, 3)]
    assert run(main(8)) != d1
    assert all(0.01 <= d <= 0.05 for d in d1)
    assert RestartPolicy.always().delay(5, random.Random(0)) == 0.0
    nojit = RestartPolicy.exponential_backoff(1.0, 3.0, jitter=0.0)
    assert [nojit.delay(n, random.Random(0)) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "args", [(0, 1.0, 0.1), (2.0, 1.0, 0.1), (0.1, 1.0, 1.5), (0.1, 1.0, -0.1)]
)
def test_invalid_backoff_is_rejected(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="exponential_backoff"):
        RestartPolicy.exponential_backoff(*args)


def test_invalid_supervisor_arguments_are_clear_errors() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            with pytest.raises(ValueError, match="max_restarts"):
                await system.spawn_supervisor([], max_restarts=-1)
            with pytest.raises(ValueError, match="within_s"):
                await system.spawn_supervisor([], within_s=0)
            with pytest.raises(ValueError):
                await system.spawn_supervisor([], strategy="one_for_some")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="ChildSpec"):
                await system.spawn_supervisor([Recorder])  # type: ignore[list-item]
            with pytest.raises(ValueError, match="child name"):
                ChildSpec("", Recorder)
            with pytest.raises(ValueError):
                ChildSpec("x", Recorder, kind="eternal")  # type: ignore[arg-type]

    run(main())


def test_intensity_exceeded_stops_children_in_reverse_and_escalates_to_observers() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            j = Journal()
            escalations: list[tuple[str | None, BaseException]] = []
            system.add_failure_observer(
                lambda r, e: escalations.append((r.name, e)) if isinstance(e, Escalation) else None
            )
            sup = await system.spawn_supervisor(
                specs(j, "abc"), max_restarts=2, within_s=10.0, name="top"
            )
            await fail_and_wait(sup, "a", 1)
            await fail_and_wait(sup, "c", 2)
            j.entries.clear()
            sup.child("b").tell_nowait(Fail())
            await wait_until(lambda: sup.state is S.STOPPED, what="supervisor stopped")
            assert j.entries == ["stop:c", "stop:b", "stop:a"]
            assert all(c.state is S.STOPPED for c in sup.children())
            assert len(sup.restart_log) == 2
            assert [n for n, _ in escalations] == ["top"]
            assert "max_restarts=2" in str(escalations[0][1])

    run(main())


def test_restarts_spread_beyond_the_window_do_not_escalate() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            sup = await system.spawn_supervisor(
                [ChildSpec("a", Recorder)], max_restarts=1, within_s=0.1
            )
            for n in range(1, 4):
                await fail_and_wait(sup, "a", n)
                last = sup.restart_log[-1].at
                await wait_until(lambda last=last: time.monotonic() - last > 0.12, what="window")
            assert sup.state is S.RUNNING and sup.child("a").stats.restarts == 3

    run(main())


def test_nested_escalation_is_handled_by_parent_strategy() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            tr = Transitions(system)
            parent = await system.spawn_supervisor(
                [ChildSpec("sibling", Recorder)], name="parent", max_restarts=5
            )
            child = await system.spawn_supervisor(
                [ChildSpec("w", Recorder)], name="child", parent=parent, max_restarts=1
            )
            assert isinstance(child, SupervisorRef) and child.name == "parent/child"
            assert parent.children()[-1] is child
            sibling_instance = id(parent.child("sibling")._instance)
            old_w = child.child("w")
            await fail_and_wait(child, "w", 1)
            child.child("w").tell_nowait(Fail())  # second restart within window: escalate
            await wait_until(lambda: len(parent.restart_log) == 1 and child.state is S.RUNNING)
            assert "Escalation" in parent.restart_log[0].error
            new_w = child.child("w")
            assert old_w.state is S.STOPPED and new_w.state is S.RUNNING and new_w is not old_w
            assert await new_w.ask(Get()) == []
            assert id(parent.child("sibling")._instance) == sibling_instance
            assert (S.FAILED, S.RECOVERING) in tr.of("parent/child")

    run(main())


def test_child_kinds_on_failure_and_on_normal_exit() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            j = Journal()
            sup = await system.spawn_supervisor(
                [
                    ChildSpec("p", j.actor("p"), ChildKind.PERMANENT),
                    ChildSpec("t", j.actor("t"), ChildKind.TRANSIENT),
                    ChildSpec("x", j.actor("x"), ChildKind.TEMPORARY),
                ],
                max_restarts=10,
            )
            p, t, x = sup.child("p"), sup.child("t"), sup.child("x")
            for ref in (p, t, x):
                ref.tell_nowait(Fail())
            await wait_until(lambda: p.stats.restarts == 1 and t.stats.restarts == 1)
            await wait_until(lambda: x.state is S.STOPPED, what="temporary not restarted")
            assert x.stats.restarts == 0
            for ref in (p, t):
                ref.tell_nowait("exit")
            await wait_until(lambda: p.stats.restarts == 2 and p.state is S.RUNNING)
            await wait_until(lambda: t.state is S.STOPPED, what="transient normal exit is final")
            assert t.stats.restarts == 1
            assert [r.child for r in sup.restart_log] == ["p", "t", "p"]
            assert "NormalExit" in sup.restart_log[-1].error

    run(main())


def test_temporary_sibling_is_not_restarted_by_one_for_all() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            sup = await system.spawn_supervisor(
                [ChildSpec("a", Recorder), ChildSpec("tmp", Recorder, ChildKind.TEMPORARY)],
                strategy=Strategy.ONE_FOR_ALL,
            )
            await fail_and_wait(sup, "a", 1)
            assert sup.child("tmp").state is S.STOPPED and sup.child("a").state is S.RUNNING

    run(main())


def test_failures_never_leak_outside_the_strategy_scope() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            loner = await system.spawn(Recorder, name="loner")
            calm = await system.spawn_supervisor(
                [ChildSpec("a", Recorder), ChildSpec("b", Recorder)],
                strategy=Strategy.ONE_FOR_ALL,
                name="calm",
            )
            stormy = await system.spawn_supervisor(
                [ChildSpec("a", Recorder), ChildSpec("b", Recorder)],
                strategy=Strategy.ONE_FOR_ALL,
                max_restarts=2,
                name="stormy",
            )
            before = {**instances(calm), "loner": id(loner._instance)}
            for _ in range(3):
                for c in stormy.children():
                    if c.is_alive:
                        c.tell_nowait(Fail())
                await wait_until(
                    lambda: (
                        all(c.state is not S.FAILED for c in stormy.children())
                        or stormy.state is S.STOPPED
                    )
                )
            await wait_until(lambda: stormy.state is S.STOPPED, what="stormy escalated")
            assert {**instances(calm), "loner": id(loner._instance)} == before
            assert calm.state is S.RUNNING and loner.state is S.RUNNING
            loner.tell_nowait("still here")
            assert await loner.ask(Get()) == ["still here"]

    run(main())


def test_unsupervised_actor_beyond_intensity_is_stopped_and_reported() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            errors: list[BaseException] = []
            system.add_failure_observer(lambda r, e: errors.append(e))
            flaky = await system.spawn(Recorder, name="flaky")
            other = await system.spawn(Recorder, name="other")
            for n in range(1, 4):
                flaky.tell_nowait(Fail())
                await wait_until(lambda n=n: flaky.stats.restarts == n and flaky.state is S.RUNNING)
            flaky.tell_nowait(Fail())
            await wait_until(lambda: flaky.state is S.STOPPED)
            assert isinstance(errors[-1], Escalation) and "intensity" in str(errors[-1])
            assert other.state is S.RUNNING and await other.ask(Get()) == []
            assert system.lookup("flaky") is None

    run(main())


def test_child_start_failure_fails_supervisor_start_and_unwinds() -> None:
    class Broken(Actor):
        async def on_start(self) -> None:
            raise RuntimeError("no disk")

    async def main() -> None:
        async with ActorSystem() as system:
            j = Journal()
            with pytest.raises(ActorStartError, match="no disk"):
                await system.spawn_supervisor(
                    [*specs(j, "ab"), ChildSpec("broken", Broken)], name="s"
                )
            assert j.entries == ["start:a", "start:b", "stop:b", "stop:a"]
            assert system.actors() == []

    run(main())


def test_start_child_adds_to_the_end_of_start_order() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            j = Journal()
            sup = await system.spawn_supervisor(specs(j, "a"), strategy=Strategy.REST_FOR_ONE)
            late = await sup.start_child(ChildSpec("late", j.actor("late")))
            assert sup.children()[-1] is late and sup.child("late") is late
            from alys_actors import DuplicateName

            with pytest.raises(DuplicateName):
                await sup.start_child(ChildSpec("late", Recorder))
            await fail_and_wait(sup, "a", 1)
            assert late.stats.restarts == 1
            with pytest.raises(KeyError, match="nope"):
                sup.child("nope")

    run(main())


def test_supervisor_as_child_spec_is_restarted_with_fresh_children() -> None:
    from alys_actors import Supervisor

    async def main() -> None:
        async with ActorSystem() as system:
            top = await system.spawn_supervisor(
                [
                    ChildSpec("w", Recorder),
                    ChildSpec("sub", lambda: Supervisor([ChildSpec("leaf", Recorder)])),
                ],
                strategy=Strategy.ONE_FOR_ALL,
                name="top",
            )
            sub = top.child("sub")
            assert isinstance(sub, SupervisorRef)
            leaf = sub.child("leaf")
            assert leaf.name == "top/sub/leaf" and system.lookup("top/sub/leaf") is leaf
            await fail_and_wait(top, "w", 1)
            new_leaf = sub.child("leaf")
            assert new_leaf is not leaf and leaf.state is S.STOPPED
            assert new_leaf.state is S.RUNNING and system.lookup("top/sub/leaf") is new_leaf
            assert sub.stats.restarts == 1

    run(main())
