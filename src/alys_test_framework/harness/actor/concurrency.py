"""Concurrency tests: many senders without loss, throughput/latency, router load balance.

Loss is judged per message identity (sender, seq) on what actors processed; latency is from
the runtime's enqueue hook to its processed hook; balance is what each worker processed.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from ...targets.actor_runtime import ActorHandle
from ..base import Outcome, harness_test
from .kit.behaviours import Worker
from .kit.harness import ActorHarnessBase, percentile
from .kit.tracker import Probe


class ConcurrencyTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("concurrency",)

    @harness_test("concurrency")
    async def test_concurrent_message_processing(self, out: Outcome) -> None:
        actors = self.scale("actor_count", 4)
        total = max(1000, self.acfg.message_count)
        senders = max(8, min(64, actors))
        per_sender = -(-total // senders)
        rng = self.rng("concurrent")
        plans = [[rng.randrange(actors) for _ in range(per_sender)] for _ in range(senders)]
        mailbox = self.bounded(out, self.acfg.mailbox_capacity)
        async with self.session("concurrent", mailbox) as s:
            refs = [await s.system.spawn(Worker, name=f"conc-{i}") for i in range(actors)]

            async def sender(si: int) -> None:
                for seq, ai in enumerate(plans[si]):
                    await refs[ai].tell(Probe(f"sender-{si}", seq))
                    if seq % 16 == 15:
                        await asyncio.sleep(0)

            t0 = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(sender(i) for i in range(senders))), self.timeout_s * 4
            )
            sent = senders * per_sender
            done = await s.tracker.wait_for_count(sent, self.timeout_s * 4, idle_refs=refs)
            elapsed = time.perf_counter() - t0
            expected = [(f"sender-{si}", q) for si in range(senders) for q in range(per_sender)]
            missing, dups = s.tracker.loss_and_duplicates(expected)
            counted = sum(r.stats.processed for r in refs if r.stats is not None)
            out.record(
                actors=actors,
                senders=senders,
                messages=sent,
                processed=s.tracker.message_count(),
                missing=len(missing),
                duplicates=len(dups),
                elapsed_s=round(elapsed, 4),
                msgs_per_s=round(sent / elapsed, 1),
            )
            out.expect(
                done and not missing,
                "zero message loss",
                f"{len(missing)} of {sent} never processed",
            )
            out.expect(not dups, "exactly-once processing", f"{len(dups)} processed twice")
            if self.target.supports("stats"):
                out.expect(
                    counted == sent,
                    "runtime stats agree",
                    f"actors' processed counters sum to {counted}, hooks saw {sent}",
                )
            else:
                out.record(runtime_stats=self.target.why_not("stats"))
            self.finish(out, s, "test_concurrent_message_processing")

    @harness_test("concurrency")
    async def test_high_throughput_messaging(self, out: Outcome) -> None:
        n = self.scale("message_count", 1000)
        pool = 4
        mailbox = self.bounded(out, self.acfg.mailbox_capacity)
        async with self.session("throughput", mailbox) as s:
            refs = [await s.system.spawn(Worker, name=f"tp-{i}") for i in range(pool)]

            async def sender(si: int) -> None:
                ref = refs[si]
                for i in range(si, n, pool):
                    await ref.tell(Probe("tp", i))

            t0 = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(sender(i) for i in range(pool))), self.timeout_s * 4
            )
            done = await s.tracker.wait_for_count(n, self.timeout_s * 4, idle_refs=refs)
            elapsed = time.perf_counter() - t0
            lat = s.tracker.latencies()
            p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
            handler_p99 = max(
                (r.stats.handler_latency_s(99) for r in refs if r.stats is not None), default=None
            )
            out.record(
                messages=n,
                elapsed_s=round(elapsed, 4),
                msgs_per_s=round(n / elapsed, 1),
                latency_p50_ms=round(p50 * 1e3, 3),
                latency_p95_ms=round(p95 * 1e3, 3),
                latency_p99_ms=round(p99 * 1e3, 3),
                handler_p99_ms=None if handler_p99 is None else round(handler_p99 * 1e3, 4),
            )
            out.expect(done, "zero message loss", f"{s.tracker.message_count()} of {n} processed")
            out.expect(len(lat) == n, "latency measured for every message", f"{len(lat)} of {n}")
            out.expect(
                p99 <= self.timeout_s,
                "p99 latency within message timeout",
                f"p99 {p99 * 1e3:.1f} ms > {self.acfg.message_timeout_ms} ms",
            )
            self.finish(out, s, "test_high_throughput_messaging")

    @harness_test("concurrency")
    async def test_message_load_balancing(self, out: Outcome) -> None:
        self.needs(out, "router")
        workers = self.scale("actor_count", 2, 16)
        n = max(workers * 20, self.acfg.message_count)
        tol = self.acfg.load_balance_tolerance
        async with self.session("load-balance", self.bounded(out, max(n, 1))) as s:
            for strategy in ("round_robin", "least_loaded"):
                refs = [
                    await s.system.spawn(Worker, name=f"{strategy}-{i}") for i in range(workers)
                ]
                router = self.target.make_router(refs, strategy, rng=self.rng(strategy))
                for i in range(n):
                    await router.route(Probe(strategy, i))
                    if i % 64 == 63:
                        await asyncio.sleep(0)

                def all_routed(refs: list[ActorHandle] = refs) -> bool:
                    return sum(s.tracker.message_count(r) for r in refs) >= n

                await s.tracker.wait_until(all_routed, self.timeout_s * 2, idle_refs=refs)
                counts = [s.tracker.message_count(r) for r in refs]
                mean = n / workers
                spread = max(abs(c - mean) for c in counts) / mean
                out.record(
                    **{f"{strategy}_counts": counts, f"{strategy}_max_deviation": round(spread, 4)}
                )
                out.expect(
                    sum(counts) == n, "zero message loss", f"{strategy}: {sum(counts)} of {n}"
                )
                out.expect(
                    spread <= tol,
                    "load balance within tolerance",
                    f"{strategy}: max deviation {spread:.1%} from the mean > {tol:.0%} "
                    f"(per-worker {counts})",
                )
            out.record(workers=workers, messages=n, tolerance=tol)
            self.finish(out, s, "test_message_load_balancing")
