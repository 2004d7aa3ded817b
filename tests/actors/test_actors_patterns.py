"""Patterns: broadcast, routers (and a broken one), request/response, gather, pipelines."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from alys_actors import (
    Actor,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    BroadcastGroup,
    MailboxConfig,
    OverflowPolicy,
    Pipeline,
    Router,
    gather_asks,
    handler,
    request,
)

from .actors_kit import Block, Get, Recorder, run, wait_until


class Add(Actor):
    def __init__(self, k: int) -> None:
        self.k = k

    @handler(int)
    def on_int(self, n: int) -> int:
        return n + self.k


class Stall(Actor):
    @handler(int)
    async def on_int(self, n: int) -> int:
        await asyncio.sleep(5)
        return n


def test_broadcast_counts_deliveries() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            refs = [await system.spawn(Recorder) for _ in range(3)]
            full = await system.spawn(
                Recorder, mailbox=MailboxConfig(1, OverflowPolicy.DROP_NEWEST)
            )
            gate = asyncio.Event()
            full.tell_nowait(Block(gate))
            await wait_until(lambda: full.mailbox.depth == 0)
            full.tell_nowait("filler")
            group = BroadcastGroup(refs + [full])
            await system.stop(refs[2])
            assert await group.broadcast("hello") == 2
            for r in refs[:2]:
                assert await r.ask(Get()) == ["hello"]
            gate.set()

    run(main())


def test_round_robin_and_least_loaded_routing() -> None:
    async def main() -> None:
        async with ActorSystem(seed=3) as system:
            refs = [await system.spawn(Recorder) for _ in range(3)]
            rr = Router(refs, "round_robin")
            picks = [await rr.route(i) for i in range(6)]
            assert picks == refs + refs
            gates = [asyncio.Event() for _ in refs]
            for r, g in zip(refs, gates, strict=True):
                r.tell_nowait(Block(g))
            await wait_until(lambda: all(r.mailbox.depth == 0 for r in refs))
            refs[0].tell_nowait("x")
            refs[0].tell_nowait("y")
            refs[1].tell_nowait("z")
            ll = Router(refs, "least_loaded")
            assert ll.pick() is refs[2]
            refs[2].tell_nowait("w")
            refs[2].tell_nowait("v")
            assert ll.pick() is refs[1]
            for g in gates:
                g.set()

    run(main())


def test_least_loaded_ties_are_broken_by_the_seeded_rng() -> None:
    async def picks(seed: int) -> list[int]:
        async with ActorSystem(seed=seed) as system:
            refs = [await system.spawn(Recorder) for _ in range(4)]
            router = Router(refs, "least_loaded", rng=random.Random(seed))
            return [refs.index(router.pick()) for _ in range(30)]

    a, b, c = run(picks(1)), run(picks(1)), run(picks(2))
    assert a == b and a != c and len(set(a)) > 1


def test_broken_router_is_a_three_line_subclass() -> None:
    class AlwaysFirst(Router):
        def select(self, live):  # type: ignore[no-untyped-def]
            return live[0]

    async def main() -> None:
        async with ActorSystem() as system:
            refs = [await system.spawn(Recorder) for _ in range(3)]
            r = AlwaysFirst(refs, "round_robin")
            hits = Counter([await r.route(i) for i in range(9)])
            assert hits == {refs[0]: 9}

    run(main())


def test_router_skips_dead_actors_and_validates_input() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            refs = [await system.spawn(lambda: Add(0), name=f"a{i}") for i in range(2)]
            await system.stop(refs[0])
            r = Router(refs)
            assert await r.ask(1, timeout=1.0) == 1 + 0  # only live actor answers
            await system.stop(refs[1])
            with pytest.raises(ActorStopped, match="no live actors"):
                r.pick()
            with pytest.raises(ValueError, match="strategy"):
                Router(refs, "random")  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="at least one"):
                Router([])

    run(main())


def test_request_gather_and_pipeline() -> None:
    async def main() -> None:
        async with ActorSystem() as system:
            stages = [await system.spawn(lambda k=k: Add(k)) for k in (1, 10, 100)]
            assert await request(stages[0], 5, timeout=1.0) == 6
            assert await gather_asks([(s, 1) for s in stages], timeout=1.0) == [2, 11, 101]
            assert await Pipeline(stages).run(0, timeout=1.0) == 111
            stall = await system.spawn(Stall, name="stall")
            with pytest.raises(AskTimeout, match="'stall'.*int"):
                await request(stall, 1, timeout=0.05)
            res = await gather_asks(
                [(stages[0], 1), (stall, 2)], timeout=0.05, return_exceptions=True
            )
            assert res[0] == 2 and isinstance(res[1], AskTimeout)
            with pytest.raises(AskTimeout):
                await Pipeline([stages[0], stall, stages[1]]).run(0, timeout=0.05)
            with pytest.raises(ValueError):
                Pipeline([])
            await system.kill(stall)

    run(main())
