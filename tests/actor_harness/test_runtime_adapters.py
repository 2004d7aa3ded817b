"""The two runtime adapters keep the protocol's promises (and Pykka keeps its own semantics).

Capabilities are declared for every name; runtime refusals arrive as protocol errors; handles
keep their identity through observers and Terminated notices; Pykka's failure rule (a failed
tell stops the actor, a failed ask goes to the asker) and graceful stop are reported as they
happen, and what Pykka lacks is refused as Unsupported rather than emulated.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alys_test_framework.harness.actor.kit.behaviours import (
    Block,
    Crash,
    Gate,
    InjectedFailure,
    Instances,
    Watcher,
    Worker,
)
from alys_test_framework.harness.actor.kit.session import ActorSession
from alys_test_framework.harness.actor.kit.tracker import Probe
from alys_test_framework.targets.actor_runtime import (
    CAPABILITIES,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    MailboxSpec,
    Overflow,
    Priority,
    Terminated,
    Unsupported,
    runtime_named,
)
from alys_test_framework.targets.actor_runtime.alys_runtime import AlysActorsRuntime
from alys_test_framework.targets.actor_runtime.pykka_runtime import PykkaRuntime

RUNTIMES = ["alys_actors", "pykka"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_every_capability_is_declared_and_unknown_names_are_refused() -> None:
    alys, pykka = AlysActorsRuntime(), PykkaRuntime()
    assert all(alys.supports(c) for c in CAPABILITIES)
    for cap in CAPABILITIES:
        assert pykka.supports(cap) == (pykka.why_not(cap) == "")
    assert not pykka.supports("supervision") and "Pykka" in pykka.why_not("supervision")
    assert set(pykka.missing) <= set(CAPABILITIES)
    with pytest.raises(KeyError, match="unknown capability"):
        alys.supports("time_travel")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_graceful_stop_handles_queued_mail_then_refuses(runtime: str) -> None:
    async def scenario() -> None:
        inst = Instances()
        async with ActorSession(runtime_named(runtime), 1) as s:
            ref = await s.system.spawn(inst.factory("w"), name="w")
            gate = Gate()
            await ref.tell(Block(gate))
            await asyncio.wait_for(gate.entered.wait(), 5)
            for i in range(5):
                await ref.tell(Probe("q", i))
            stopping = asyncio.create_task(s.system.stop(ref))
            await asyncio.sleep(0)
            gate.release.set()
            await stopping
            assert s.tracker.keys(ref, "processed") == [("q", i) for i in range(5)]
            assert inst.stopped == {"w": 1} and not ref.is_alive
            assert s.monitor.states_of(ref)[-3:] == ["RUNNING", "STOPPING", "STOPPED"]
            assert not s.monitor.verify_transitions()
            with pytest.raises(ActorStopped):
                await ref.tell(Probe("late", 0))
            with pytest.raises(ActorStopped):
                await ref.ask(Probe("late", 1), timeout_s=1)

    run(scenario())


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_ask_timeout_is_the_protocol_error_and_the_actor_stays_usable(runtime: str) -> None:
    async def scenario() -> None:
        async with ActorSession(runtime_named(runtime), 1) as s:
            ref = await s.system.spawn(Worker, name="w")
            gate = Gate()
            with pytest.raises(AskTimeout):
                await ref.ask(Block(gate), timeout_s=0.05)
            gate.release.set()
            assert await ref.ask(Probe("after", 0, 7), timeout_s=5) == 7

    run(scenario())


def test_pykka_failed_tell_stops_the_actor_and_is_reported() -> None:
    async def scenario() -> None:
        async with ActorSession(PykkaRuntime(), 1) as s:
            ref = await s.system.spawn(Worker, name="w")
            await ref.tell(Crash("boom"))
            await s.monitor.wait_for_state(ref, "STOPPED", 5)
            assert s.monitor.states_of(ref)[-3:] == ["RUNNING", "FAILED", "STOPPED"]
            assert [type(f.error) for f in s.failures] == [InjectedFailure]
            assert not s.failures[0].escalated
            with pytest.raises(ActorStopped):
                await ref.tell(Probe("after", 0))

    run(scenario())


def test_pykka_failed_ask_goes_to_the_asker_and_the_actor_lives_on() -> None:
    async def scenario() -> None:
        async with ActorSession(PykkaRuntime(), 1) as s:
            ref = await s.system.spawn(Worker, name="w")
            with pytest.raises(InjectedFailure):
                await ref.ask(Crash("to the caller"), timeout_s=5)
            assert ref.is_alive and not s.failures
            assert await ref.ask(Probe("after", 0, 3), timeout_s=5) == 3

    run(scenario())


def test_pykka_refuses_what_it_cannot_express() -> None:
    async def scenario() -> None:
        rt = PykkaRuntime()
        async with ActorSession(rt, 1) as s:
            ref = await s.system.spawn(Worker, name="w")
            with pytest.raises(Unsupported, match="priorities"):
                await ref.tell(Probe("p", 0), priority=Priority.HIGH)
            with pytest.raises(Unsupported, match="unbounded"):
                await s.system.spawn(Worker, mailbox=MailboxSpec(4))
            with pytest.raises(Unsupported, match="supervisors"):
                await s.system.spawn_supervisor([])
            with pytest.raises(Unsupported, match="routers"):
                rt.make_router([ref], "round_robin")
            assert s.system.registry is None

    run(scenario())


def test_alys_handles_keep_identity_and_translate_refusals() -> None:
    async def scenario() -> None:
        async with ActorSession(AlysActorsRuntime(), 1) as s:
            ref = await s.system.spawn(Worker, name="rx", mailbox=MailboxSpec(1, Overflow.REJECT))
            gate = Gate()
            await ref.tell(Block(gate))
            await asyncio.wait_for(gate.entered.wait(), 5)
            ref.tell_nowait(Probe("a", 0))
            with pytest.raises(MailboxFull):
                ref.tell_nowait(Probe("a", 1))
            gate.release.set()
            await s.tracker.wait_for_count(1, 5, actor=ref)
            hooked = s.tracker.events(ref, "processed")[0]
            assert hooked.actor == ref.id
            assert s.monitor.get_transitions(ref)[0].actor == ref.id
            notices: list[Terminated] = []
            watcher = await s.system.spawn(lambda: Watcher(notices), name="watcher")
            registry = s.system.registry
            assert registry is not None
            registry.watch(ref, watcher)
            await s.system.stop(ref)
            await s.tracker.wait_until(lambda: bool(notices), 5)
            assert notices[0].ref is ref, "a Terminated notice names the very handle spawned"
            assert registry.lookup("rx") is None

    run(scenario())


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_shutdown_ends_an_actor_stuck_in_a_handler(runtime: str) -> None:
    async def scenario() -> None:
        s = ActorSession(runtime_named(runtime), 1)
        async with s:
            ref = await s.system.spawn(Worker, name="stuck")
            gate = Gate()  # never released
            await ref.tell(Block(gate))
            await asyncio.wait_for(gate.entered.wait(), 5)
            left = await s.shutdown_and_measure(timeout_s=0.2)
            assert left.leaked == 0, (left.tasks, left.workers)
            assert not ref.is_alive
            assert s.monitor.current_state(ref) == "STOPPED"

    run(scenario())
