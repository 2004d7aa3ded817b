"""Actor group: the alys_actors runtime beside a bare asyncio.Queue consumer and Pykka.

The bare consumer is the physical floor of one asyncio task draining a bounded queue of
(message, reply-future) pairs: what any asyncio actor must at least cost. Pykka (threads) is a
peer, not a floor. Every ratio is ours ÷ floor on CPU time per operation (lower is better).
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections import deque
from typing import Any

from alys_actors import Actor, ActorSystem, MailboxConfig, OverflowPolicy, handler

from ..context import BenchContext
from ..model import CaseResult, Measurement, Target
from ..sampler import Contender
from ..stats import summarize

GROUP = "actor"
CAPACITY = 1_000


class Get:
    """Ask message: reply with the running total."""


class Summer(Actor):
    def __init__(self) -> None:
        self.total = 0

    @handler(int)
    async def on_int(self, n: int) -> None:
        self.total += n

    @handler(Get)
    async def on_get(self, _: Get) -> int:
        return self.total


class Idle(Actor):
    @handler(int)
    async def on_int(self, n: int) -> None:
        return None


class BareConsumer:
    """The floor: one task draining a bounded asyncio.Queue of (msg, future)."""

    def __init__(self) -> None:
        self.q: asyncio.Queue[tuple[Any, asyncio.Future[int] | None]] = asyncio.Queue(CAPACITY)
        self.total = 0
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        get = self.q.get
        while True:
            msg, fut = await get()
            if fut is None:
                self.total += msg
            else:
                fut.set_result(self.total)

    async def ask(self) -> int:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self.q.put((None, fut))
        return await fut

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def _pykka() -> Any | None:
    try:
        import pykka
    except ImportError:
        return None

    class PSummer(pykka.ThreadingActor):
        def __init__(self) -> None:
            super().__init__()
            self.total = 0

        def on_receive(self, message: Any) -> Any:
            if message is None:
                return self.total
            self.total += message
            return None

    return PSummer.start()


async def message_processing(ctx: BenchContext, with_pykka: bool = True) -> list[CaseResult]:
    async with ActorSystem(seed=0) as system:
        ref = await system.spawn(Summer, mailbox=MailboxConfig(CAPACITY))
        bare = BareConsumer()
        get = Get()

        async def ours(loops: int) -> None:
            tell = ref.tell
            for i in range(loops):
                await tell(i)
            await ref.ask(get)

        async def floor(loops: int) -> None:
            put = bare.q.put
            for i in range(loops):
                await put((i, None))
            await bare.ask()

        cases = [
            await ctx.case(
                GROUP,
                "message_processing",
                "tells to one actor, then an ask; per message",
                [Contender("ours", ours), Contender("bare_queue", floor)],
                floor="bare_queue",
                target=Target("ratio", 1 / 0.8, "throughput >= 0.8x bare queue"),
                min_sample_s=ctx.min_sample_s,
            )
        ]
        pk = _pykka() if with_pykka else None
        if pk is not None:
            try:

                def pykka(loops: int) -> None:
                    for i in range(loops):
                        pk.tell(i)
                    pk.ask(None)

                cases.append(
                    await ctx.case(
                        GROUP,
                        "message_processing_vs_pykka",
                        "the same workload beside Pykka 4 (threading actors)",
                        [Contender("ours", ours), Contender("pykka", pykka)],
                        floor="pykka",
                        target=Target("ratio", 1 / 5, "throughput >= 5x Pykka"),
                    )
                )
            finally:
                pk.stop()
        await bare.close()
    return cases


async def cross_actor_communication(ctx: BenchContext) -> CaseResult:
    async with ActorSystem(seed=0) as system:
        ref = await system.spawn(Summer, mailbox=MailboxConfig(CAPACITY))
        bare = BareConsumer()
        get = Get()

        async def ours(loops: int) -> None:
            ask = ref.ask
            for _ in range(loops):
                await ask(get)

        async def floor(loops: int) -> None:
            for _ in range(loops):
                await bare.ask()

        case = await ctx.case(
            GROUP,
            "cross_actor_communication",
            "ask round trip (request, handler, reply future)",
            [Contender("ours", ours), Contender("bare_queue", floor)],
            floor="bare_queue",
            target=Target("ratio", 1.2, "ask <= 1.2x bare round trip"),
        )
        await bare.close()
    return case


async def concurrent_message_handling(ctx: BenchContext) -> CaseResult:
    actors = ctx.size(1_000, 200)
    per = ctx.size(1_000, 200)
    expect = per * (per - 1) // 2

    async def ours(_: int) -> None:
        async with ActorSystem(seed=0) as system:
            refs = await system.spawn_many(Summer, actors, mailbox=MailboxConfig(CAPACITY))
            for ref in refs:
                for i in range(per):
                    await ref.tell(i)
            totals = [await ref.ask(Get()) for ref in refs]
            assert all(t == expect for t in totals), "messages lost"

    async def floor(_: int) -> None:
        cs = [BareConsumer() for _ in range(actors)]
        for c in cs:
            put = c.q.put
            for i in range(per):
                await put((i, None))
        totals = [await c.ask() for c in cs]
        assert all(t == expect for t in totals)
        for c in cs:
            await c.close()

    return await ctx.case(
        GROUP,
        "concurrent_message_handling",
        f"{actors:,} actors x {per:,} messages, spawn to last reply",
        [Contender("ours", ours, loops=1), Contender("bare_queue", floor, loops=1)],
        floor="bare_queue",
        target=Target("ratio", 1.5, "<= 1.5x bare consumers"),
        samples=ctx.samples(full=10, quick=6),
        unit="s/run",
        extra={"actors": actors, "messages_per_actor": per},
    )


async def actor_creation(ctx: BenchContext) -> list[CaseResult]:
    small, large = 1_000, ctx.size(100_000, 10_000)
    shutdown_s: list[float] = []
    shutdown_cpu: list[float] = []
    bare_s: list[float] = []
    bare_cpu: list[float] = []

    def spawner(n: int, record_shutdown: bool) -> Any:
        async def op(_: int) -> None:
            system = ActorSystem(seed=0)
            await system.spawn_many(Idle, n)
            await asyncio.sleep(0)  # every loop task started and parked
            if record_shutdown:
                loop = asyncio.get_running_loop()
                w, c = loop.time(), _cpu()
                await system.shutdown(timeout=120)
                shutdown_s.append(loop.time() - w)
                shutdown_cpu.append(_cpu() - c)
                bw, bc = await _bare_stop(n)  # the floor, right after, same heap
                bare_s.append(bw)
                bare_cpu.append(bc)
            else:
                await system.shutdown(timeout=120)

        return op

    # per-actor spawn cost, measured including the shutdown so that samples are independent;
    # shutdown is timed separately for the large system
    async def small_op(loops: int) -> None:
        await spawner(small, False)(loops)

    async def large_op(loops: int) -> None:
        await spawner(large, True)(loops)

    n = ctx.samples(full=5, quick=3)
    creation = await ctx.case(
        GROUP,
        "actor_creation",
        f"spawn_many: per actor at {large:,} vs at {small:,} (linearity)",
        [
            Contender(f"spawn_{large}", large_op, loops=large),
            Contender(f"spawn_{small}", small_op, loops=small),
        ],
        floor=f"spawn_{small}",
        target=Target("ratio", 1.2, f"{large:,} actors <= 1.2x the per-actor cost at {small:,}"),
        samples=n,
        extra={"note": "samples include the system's shutdown; see actor_shutdown"},
    )
    creation.ours = f"spawn_{large}"
    # the goal is 100,000 actors in 1 s: judged per actor so that --quick's smaller system
    # is held to the same 10 us, not to a whole second for a tenth of the actors
    # the warm-up sample's shutdown is discarded, as the sampler discards its timing
    shutdown_s, shutdown_cpu = shutdown_s[-n:], shutdown_cpu[-n:]
    bare_s, bare_cpu = bare_s[-n:], bare_cpu[-n:]
    shutdown = CaseResult(
        group=GROUP,
        name="actor_shutdown",
        unit="s/actor",
        description=f"shutdown of {large:,} idle actors, per actor, beside waking and ending "
        "as many parked bare tasks",
        measurements={
            "ours": Measurement(
                summarize([x / large for x in shutdown_s]),
                summarize([x / large for x in shutdown_cpu]),
            ),
            "bare_tasks": Measurement(
                summarize([x / large for x in bare_s]), summarize([x / large for x in bare_cpu])
            ),
        },
        floor="bare_tasks",
        ratio=summarize([o / b for o, b in zip(shutdown_cpu, bare_cpu, strict=True)]),
        basis="cpu",
        target=Target("value", 1e-5, "<= 10 us per actor (100,000 stopped in <= 1 s, CPU)"),
        extra={"actors": large, "total_cpu_s": [round(x, 4) for x in shutdown_cpu]},
    )
    return [creation, shutdown]


def _cpu() -> float:
    return time.process_time()


async def _park(fut: asyncio.Future[None]) -> None:
    await fut


async def _bare_stop(count: int) -> tuple[float, float]:
    """Wall and CPU seconds to wake ``count`` tasks parked on a future and let them end: the
    least that stopping as many parked message loops can cost."""
    loop = asyncio.get_running_loop()
    futs: list[asyncio.Future[None]] = [loop.create_future() for _ in range(count)]
    tasks = [loop.create_task(_park(f)) for f in futs]
    await asyncio.sleep(0)
    w, c = time.perf_counter(), _cpu()
    for f in futs:
        f.set_result(None)
    await asyncio.sleep(0)
    rest = [t for t in tasks if not t.done()]
    if rest:
        await asyncio.wait(rest)
    return time.perf_counter() - w, _cpu() - c


async def memory_usage_patterns(ctx: BenchContext) -> CaseResult:
    n = ctx.size(10_000, 2_000)

    async def ours() -> float:
        system = ActorSystem(seed=0)
        await system.spawn(Idle)  # root guardian and caches exist before measuring
        await asyncio.sleep(0)
        gc.collect()
        tracemalloc.start()
        try:
            await system.spawn_many(Idle, n)
            await asyncio.sleep(0)
            used = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        await system.shutdown(timeout=60)
        return used / n

    async def bare() -> float:
        gc.collect()
        tracemalloc.start()
        try:
            cs = [BareConsumer() for _ in range(n)]
            await asyncio.sleep(0)
            used = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        for c in cs:
            await c.close()
        return used / n

    reps = 3
    t0 = time.perf_counter()
    o = [await ours() for _ in range(reps)]
    b = [await bare() for _ in range(reps)]
    ratio = summarize([x / y for x, y in zip(o, b, strict=True)], "memory ratio")
    return CaseResult(
        group=GROUP,
        name="memory_usage_patterns",
        unit="bytes/actor",
        description=f"traced memory per idle actor ({n:,} spawned), beside a parked bare consumer",
        measurements={"ours": Measurement(summarize(o)), "bare_queue": Measurement(summarize(b))},
        floor="bare_queue",
        basis="wall",
        ratio=ratio,
        target=Target("value", 8 * 1024, "<= 8 KiB per idle actor"),
        extra={"actors": n, "elapsed_s": time.perf_counter() - t0},
    )


async def mailbox_overflow_handling(ctx: BenchContext) -> CaseResult:
    cap = 64
    async with ActorSystem(seed=0) as system:
        ref = await system.spawn(Idle, mailbox=MailboxConfig(cap, OverflowPolicy.DROP_OLDEST))
        dq: deque[int] = deque(maxlen=cap)

        def ours(loops: int) -> None:
            # no await: the actor cannot run, so the mailbox stays full and every put evicts
            tell = ref.tell_nowait
            for i in range(loops):
                tell(i)

        def floor(loops: int) -> None:
            append = dq.append
            for i in range(loops):
                append(i)

        case = await ctx.case(
            GROUP,
            "mailbox_overflow_handling",
            f"tell_nowait into a full drop_oldest mailbox (capacity {cap}) vs deque(maxlen)",
            [Contender("ours", ours), Contender("deque_maxlen", floor)],
            floor="deque_maxlen",
            extra={"capacity": cap},
        )
    return case


async def run(ctx: BenchContext) -> list[CaseResult]:
    out: list[CaseResult] = []
    out += await message_processing(ctx)
    out.append(await cross_actor_communication(ctx))
    out.append(await concurrent_message_handling(ctx))
    out += await actor_creation(ctx)
    out.append(await memory_usage_patterns(ctx))
    out.append(await mailbox_overflow_handling(ctx))
    return out
