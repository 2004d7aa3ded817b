"""Registry: names, service tags, lookup, watch/Terminated, automatic deregistration."""

from __future__ import annotations

import pytest

from alys_actors import ActorSystem, DuplicateName, Registry, Terminated

from .actors_kit import Fail, Get, Recorder, run, wait_until


def test_register_lookup_services_and_auto_deregistration() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            reg = system.registry
            a = await system.spawn(Recorder, name="a", tags=["store", "rpc"])
            b = await system.spawn(Recorder, name="b", tags=["store"])
            assert reg.lookup("a") is a and reg.lookup("missing") is None
            assert reg.lookup_service("store") == [a, b] and reg.lookup_service("rpc") == [a]
            assert sorted(reg.names()) == ["a", "b"]
            reg.register("alias", a)
            reg.register_service("extra", a)
            with pytest.raises(DuplicateName, match="'alias'"):
                reg.register("alias", b)
            with pytest.raises(ValueError):
                reg.register("", b)
            await system.stop(a)
            assert reg.lookup("a") is None and reg.lookup("alias") is None
            assert reg.lookup_service("store") == [b] and reg.lookup_service("extra") == []
            assert sorted(reg.names()) == ["b"] and reg.services() == ["store"]
            from alys_actors import ActorError

            with pytest.raises(ActorError, match="stopped"):
                reg.register("zombie", a)

    run(main())


def test_restart_keeps_registration() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            a = await system.spawn(Recorder, name="a", tags=["t"])
            a.tell_nowait(Fail())
            await wait_until(lambda: a.stats.restarts == 1)
            assert system.registry.lookup("a") is a
            assert system.registry.lookup_service("t") == [a]

    run(main())


def test_watchers_get_terminated_with_reason() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            target = await system.spawn(Recorder, name="target")
            w1 = await system.spawn(Recorder)
            w2 = await system.spawn(Recorder)
            system.registry.watch(target, w1)
            system.registry.watch(target, w1)  # idempotent
            system.registry.watch(target, w2)
            system.registry.unwatch(target, w2)
            await system.stop(target)
            await wait_until(lambda: w1.stats.processed == 1)
            log = await w1.ask(Get())
            assert log == [Terminated(target, "stopped")]
            assert await w2.ask(Get()) == []
            # watching something already dead answers at once
            system.registry.watch(target, w2)
            await wait_until(lambda: w2.stats.processed == 2)
            assert [m.reason for m in await w2.ask(Get())] == ["already stopped"]

    run(main())


def test_killed_and_escalated_actors_notify_watchers() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            w = await system.spawn(Recorder)
            k = await system.spawn(Recorder, name="k")
            sup = await system.spawn_supervisor([], name="s")
            system.registry.watch(k, w)
            system.registry.watch(sup, w)
            await system.kill(k)
            await system.fail(sup)  # top-level supervisor failing: stopped by the root
            await wait_until(lambda: w.stats.processed == 2)
            reasons = {m.ref.name: m.reason for m in await w.ask(Get())}
            assert reasons["k"] == "killed" and "escalated" in reasons["s"]

    run(main())


def test_registry_can_be_shared_between_systems() -> None:
    async def main() -> None:
        shared = Registry()
        async with (
            ActorSystem("one", registry=shared) as s1,
            ActorSystem("two", registry=shared) as s2,
        ):
            await s1.spawn(Recorder, name="x")
            with pytest.raises(DuplicateName):
                await s2.spawn(Recorder, name="x")

    run(main())
