"""Many actors: batch spawn, the shutdown fast path for idle actors, and lazy histograms.

The fast path must be invisible: the same lifecycle transitions in the same (reverse start)
order as a graceful stop, on_stop still run where an actor defines one, queued mail still
handled. These tests compare it with the ordinary path instead of timing it (timing is the
benchmark's job).
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from alys_actors import Actor, ActorSystem, LifecycleState, handler

from .actors_kit import Get, Recorder, Transitions, run

_S = LifecycleState


class Idle(Actor):
    @handler(int)
    async def on_int(self, n: int) -> int:
        return n


def test_spawn_many_starts_every_actor_in_order_and_restores_the_collector() -> None:
    async def main() -> None:
        async with ActorSystem(seed=0) as system:
            assert gc.isenabled()
            refs = await system.spawn_many(Idle, 50)
            assert gc.isenabled(), "spawn_many must restore the cyclic collector"
            assert [r.state for r in refs] == [_S.RUNNING] * 50
            assert [r.id for r in refs] == sorted(r.id for r in refs)
            assert [await r.ask(i) for i, r in enumerate(refs)] == list(range(50))

    run(main())


def test_spawn_many_restores_the_collector_when_a_factory_fails() -> None:
    def broken() -> Actor:
        raise RuntimeError("no")

    async def main() -> None:
        async with ActorSystem(seed=0) as system:
            with pytest.raises(Exception, match="no"):
                await system.spawn_many(broken, 3)
            assert gc.isenabled()
            with pytest.raises(ValueError, match="non-negative"):
                await system.spawn_many(Idle, -1)

    run(main())


def test_shutdown_of_idle_actors_reports_the_same_transitions_in_reverse_start_order() -> None:
    async def main() -> tuple[list[tuple[str | None, _S, _S]], list[int]]:
        system = ActorSystem(seed=0)
        seen = Transitions(system)
        names = [f"a{i}" for i in range(6)]
        for n in names[:3]:
            await system.spawn(Idle, name=n)
        for n in names[3:]:
            await system.spawn(Recorder, name=n)  # defines on_stop: takes the ordinary path
        refs = [system.lookup(n) for n in names]
        await refs[4].tell(Get())  # queued mail is still handled
        Recorder.instances.clear()
        await system.shutdown()
        tasks_done = [int(r._task is None) for r in refs if r is not None]
        stops = [(w, o, n) for w, o, n, _ in seen.events if n in (_S.STOPPING, _S.STOPPED)]
        return stops, tasks_done

    stops, tasks_done = run(main())
    expected = []
    for i in reversed(range(6)):
        expected += [(f"a{i}", _S.RUNNING, _S.STOPPING), (f"a{i}", _S.STOPPING, _S.STOPPED)]
    assert stops == expected
    assert tasks_done == [1] * 6


def test_on_stop_still_runs_for_actors_that_define_it() -> None:
    async def main() -> int:
        system = ActorSystem(seed=0)
        Recorder.instances.clear()
        await system.spawn_many(Recorder, 5)
        await system.shutdown()
        return sum(r.stopped for r in Recorder.instances)

    assert run(main()) == 5


def test_no_asyncio_task_outlives_shutdown_of_many_idle_actors() -> None:
    async def main() -> int:
        system = ActorSystem(seed=0)
        await system.spawn_many(Idle, 500)
        await system.shutdown()
        live = [t for t in asyncio.all_tasks() if not t.done()]
        return len([t for t in live if t.get_name().startswith("actor-")])

    assert run(main()) == 0


def test_an_idle_actor_allocates_no_latency_histogram_until_it_handles_mail() -> None:
    async def main() -> tuple[bool, bool, int]:
        async with ActorSystem(seed=0) as system:
            ref = await system.spawn(Idle)
            await asyncio.sleep(0)
            before = ref.stats.handler_latency._counts is None
            await ref.ask(1)
            after = ref.stats.handler_latency._counts is not None
            return before, after, ref.stats.handler_latency.count

    before, after, count = run(main())
    assert before and after and count == 1
