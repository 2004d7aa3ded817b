"""Communication tests: direct, broadcast, request/response, chains, workflows, discovery.

Every check reads what each actor actually processed (tracker) or what the runtime returned,
so a message that went to the wrong actor, twice, or nowhere is seen where it landed.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import ClassVar

from ...targets.actor_runtime import AskTimeout, Terminated
from ..base import Outcome, harness_test
from .kit.behaviours import Block, Fanout, Gate, Switch, Watcher, Worker
from .kit.harness import ActorHarnessBase
from .kit.tracker import Probe


def _double(x: int) -> int:
    return 2 * x


def _inc(x: int) -> int:
    return x + 1


class CommunicationTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("communication",)

    @harness_test("communication")
    async def test_direct_actor_messaging(self, out: Outcome) -> None:
        n = self.scale("message_count", 100, 5000)
        async with self.session("direct", keep_messages=True) as s:
            b = await s.system.spawn(Worker, name="b")
            a = await s.system.spawn(lambda: Worker("a", forward_to=b, transform=_double), name="a")
            for i in range(n):
                await a.tell(Probe("client", i, i))
            done = await s.tracker.wait_for_count(n, self.timeout_s * 2, actor=b, idle_refs=[a, b])
            got = s.tracker.keys(b, "processed")
            direct = await b.ask(Probe("client", n, 21), timeout_s=self.timeout_s)
            bodies_ok = all(
                t.msg.body == 2 * t.key[1]
                for t in s.tracker.events(b, "processed")
                if t.key is not None and t.key[0] == "a"
            )
            out.record(messages=n, received_by_b=len(got), ask_reply=direct)
            out.expect(
                done and got == [("a", i) for i in range(n)],
                "no message loss",
                f"b processed {len(got)} of {n} forwarded messages in order",
            )
            out.expect(bodies_ok, "message content intact", "forwarded bodies changed")
            out.expect(direct == 21, "direct ask reply", f"ask returned {direct!r}")
            self.finish(out, s, "test_direct_actor_messaging")

    @harness_test("communication")
    async def test_broadcast_messaging(self, out: Outcome) -> None:
        self.needs(out, "broadcast")
        members = self.scale("actor_count", 3, 64)
        k = 10
        async with self.session("broadcast") as s:
            refs = [await s.system.spawn(Worker, name=f"member-{i}") for i in range(members)]
            group = self.target.make_broadcast(refs)
            delivered = [await group.broadcast(Probe("bcast", i, i)) for i in range(k)]
            done = await s.tracker.wait_for_count(members * k, self.timeout_s * 2, idle_refs=refs)
            per_member = [s.tracker.keys(r, "processed") for r in refs]
            wrong = [
                i for i, keys in enumerate(per_member) if keys != [("bcast", j) for j in range(k)]
            ]
            out.record(
                members=members,
                broadcasts=k,
                delivered=delivered,
                processed=s.tracker.message_count(),
            )
            out.expect(
                all(d == members for d in delivered),
                "broadcast delivery count",
                f"broadcast reported {delivered} deliveries, {members} members",
            )
            out.expect(
                done and not wrong,
                "every member receives every broadcast once, in order",
                f"{len(wrong)} members got a different sequence, e.g. member {wrong[:1]}",
            )
            self.finish(out, s, "test_broadcast_messaging")

    @harness_test("communication")
    async def test_request_response_patterns(self, out: Outcome) -> None:
        n = self.scale("actor_count", 10, 200)
        t_ask = min(0.2, self.timeout_s / 4)
        async with self.session("request-response") as s:
            ref = await s.system.spawn(lambda: Worker("rr", transform=_double), name="rr")
            sync = [await ref.ask(Probe("sync", i, i), timeout_s=self.timeout_s) for i in range(10)]
            conc = await asyncio.gather(
                *(ref.ask(Probe("async", i, i), timeout_s=self.timeout_s) for i in range(n))
            )
            batch = await asyncio.gather(
                *(ref.ask(Probe("batch", i, i), timeout_s=self.timeout_s) for i in range(n))
            )
            gate = Gate()
            t0 = time.perf_counter()
            timed_out = False
            try:
                await ref.ask(Block(gate), timeout_s=t_ask)
            except AskTimeout:
                timed_out = True
            waited = time.perf_counter() - t0
            gate.release.set()
            after = await ref.ask(Probe("after", 0, 50), timeout_s=self.timeout_s)
            out.record(
                asks=10 + 2 * n,
                ask_timeout_s=t_ask,
                timeout_measured_s=round(waited, 4),
                timeout_tolerance_s=max(0.1, t_ask),
            )
            out.expect(
                sync == [2 * i for i in range(10)], "sync request/response", f"replies {sync}"
            )
            out.expect(
                list(conc) == [2 * i for i in range(n)],
                "async requests matched to their replies",
                "a reply went to the wrong request",
            )
            out.expect(
                list(batch) == [2 * i for i in range(n)],
                "batch request/response",
                "batch replies wrong",
            )
            out.expect(
                timed_out and t_ask * 0.95 <= waited <= t_ask + max(0.1, t_ask),
                "ask timeout",
                f"timeout raised={timed_out} after {waited:.3f} s (timeout {t_ask} s)",
            )
            out.expect(after == 100, "actor usable after a timed-out ask", f"reply {after!r}")
            self.finish(out, s, "test_request_response_patterns")

    @harness_test("communication")
    async def test_message_routing_chains(self, out: Outcome) -> None:
        self.needs(out, "router", "pipeline")
        n = self.scale("message_count", 50, 5000)
        async with self.session("routing-chain") as s:
            sink = await s.system.spawn(Worker, name="sink")
            p2 = await s.system.spawn(
                lambda: Worker("p2", forward_to=sink, transform=_inc), name="p2"
            )
            p1 = [
                await s.system.spawn(
                    partial(Worker, f"p1-{i}", forward_to=p2, transform=_double), name=f"p1-{i}"
                )
                for i in range(2)
            ]
            router = self.target.make_router(p1, "round_robin", rng=self.rng("chain"))
            for i in range(n):
                await router.route(Probe("src", i, i))
            done = await s.tracker.wait_for_count(
                n, self.timeout_s * 2, actor=sink, idle_refs=[*p1, p2, sink]
            )
            s_keys = sorted(k[1] for k in s.tracker.keys(sink, "processed"))
            stage_counts = {r.name: s.tracker.message_count(r) for r in (*p1, p2, sink)}
            stages = [
                await s.system.spawn(partial(Worker, "stage", transform=f, reply_probe=True))
                for f in (_double, _inc, _double)
            ]
            pipeline = self.target.make_pipeline(stages)
            piped = [
                (await pipeline.run(Probe("pipe", i, i), self.timeout_s)).body for i in range(5)
            ]
            out.record(messages=n, stage_counts=stage_counts, pipeline=piped)
            out.expect(
                done and s_keys == list(range(n)),
                "every message traverses the chain",
                f"sink processed {len(s_keys)} of {n}; per stage {stage_counts}",
            )
            out.expect(
                stage_counts[p2.name] == n and sum(stage_counts[r.name] for r in p1) == n,
                "each stage processes each message once",
                f"per stage {stage_counts}",
            )
            out.expect(
                piped == [2 * (2 * i + 1) for i in range(5)],
                "pipeline result is the composition of its stages",
                f"got {piped}",
            )
            self.finish(out, s, "test_message_routing_chains")

    @harness_test("communication")
    async def test_multi_actor_workflows(self, out: Outcome) -> None:
        w = self.scale("actor_count", 3, 16)
        async with self.session("workflows") as s:
            workers = [
                await s.system.spawn(partial(Worker, f"w{i}", transform=_double), name=f"w{i}")
                for i in range(w)
            ]
            parallel = await asyncio.gather(
                *(
                    r.ask(Probe("par", i, i), timeout_s=self.timeout_s)
                    for i, r in enumerate(workers)
                )
            )
            seq_val = 1
            for r in workers[:3]:
                seq_val = await r.ask(Probe("seq", seq_val, seq_val), timeout_s=self.timeout_s)
            coord = await s.system.spawn(lambda: Worker("coord"), name="coord")
            fan = await coord.ask(
                Fanout(tuple(workers), 5, self.timeout_s), timeout_s=self.timeout_s
            )
            from_coord = [
                sum(1 for k in s.tracker.keys(r, "processed") if k[0] == "coord") for r in workers
            ]
            even = await s.system.spawn(Worker, name="even")
            odd = await s.system.spawn(Worker, name="odd")
            switch = await s.system.spawn(lambda: Switch(even, odd), name="switch")
            for i in range(20):
                await switch.tell(Probe("cond", i, i))
            routed = await s.tracker.wait_until(
                lambda: s.tracker.message_count(even) + s.tracker.message_count(odd) >= 20,
                self.timeout_s,
            )
            evens = sorted(k[1] for k in s.tracker.keys(even, "processed"))
            odds = sorted(k[1] for k in s.tracker.keys(odd, "processed"))
            out.record(workers=w, sequential_result=seq_val, fan_in=fan, fan_out_counts=from_coord)
            out.expect(
                list(parallel) == [2 * i for i in range(w)], "parallel workflow", f"{parallel}"
            )
            out.expect(seq_val == 8, "sequential workflow", f"1 doubled by 3 stages gave {seq_val}")
            out.expect(
                fan == 10 * w and from_coord == [1] * w,
                "fan-out/fan-in workflow",
                f"sum {fan} (expected {10 * w}), per-worker requests {from_coord}",
            )
            out.expect(
                routed and evens == list(range(0, 20, 2)) and odds == list(range(1, 20, 2)),
                "conditional workflow",
                f"even branch got {evens}, odd branch got {odds}",
            )
            self.finish(out, s, "test_multi_actor_workflows")

    @harness_test("communication")
    async def test_actor_discovery_communication(self, out: Outcome) -> None:
        self.needs(out, "registry", "router")
        k = self.scale("actor_count", 3, 8)
        n = k * 50
        tol = self.acfg.load_balance_tolerance
        async with self.session("discovery") as s:
            reg = s.system.registry
            if reg is None:
                out.fail("registration and lookup", "the runtime declares a registry, has none")
                return
            refs = []
            for i in range(k):
                ref = await s.system.spawn(
                    partial(Worker, f"svc-{i}", transform=_double), name=f"svc-{i}", tags=["svc"]
                )
                if reg.lookup(f"svc-{i}") is None:
                    reg.register(f"svc-{i}", ref)
                if all(r.id != ref.id for r in reg.lookup_service("svc")):
                    reg.register_service("svc", ref)
                refs.append(ref)
            found = [reg.lookup(f"svc-{i}") for i in range(k)]
            lookup_ok = all(
                f is not None and f.id == r.id for f, r in zip(found, refs, strict=True)
            )
            svc = reg.lookup_service("svc")
            bound = [
                await f.ask(Probe("bind", i, i), timeout_s=self.timeout_s)
                for i, f in enumerate(found)
                if f
            ]
            healthy = all(f.is_alive for f in found if f)
            router = self.target.make_router(svc, "round_robin", rng=self.rng("discovery"))
            for i in range(n):
                await router.route(Probe("lb", i, i))
            await s.tracker.wait_until(
                lambda: (
                    sum(1 for r in refs for key in s.tracker.keys(r, "processed") if key[0] == "lb")
                    >= n
                ),
                self.timeout_s,
            )
            counts = [
                sum(1 for key in s.tracker.keys(r, "processed") if key[0] == "lb") for r in refs
            ]
            spread = max(abs(c - n / k) for c in counts) / (n / k)
            notices: list[Terminated] = []
            watcher = await s.system.spawn(lambda: Watcher(notices), name="watcher")
            reg.watch(refs[0], watcher)
            await s.system.stop(refs[0])
            await s.tracker.wait_until(lambda: bool(notices), self.timeout_s)
            # watching an actor that has already stopped delivers Terminated at once
            late: list[Terminated] = []
            late_watcher = await s.system.spawn(lambda: Watcher(late), name="late-watcher")
            reg.watch(refs[0], late_watcher)
            late_seen = await s.tracker.wait_until(
                lambda: bool(late), self.timeout_s, idle_refs=[late_watcher]
            )
            gone = reg.lookup("svc-0")
            svc_after = [r.id for r in reg.lookup_service("svc")]
            out.record(
                services=k, lb_counts=counts, lb_max_deviation=round(spread, 4), names=reg.names()
            )
            out.expect(lookup_ok, "registration and lookup", f"lookup gave {found}")
            out.expect(len(svc) == k, "service lookup", f"{len(svc)} of {k} service members found")
            out.expect(
                bound == [2 * i for i in range(k)], "binding via looked-up refs", f"replies {bound}"
            )
            out.expect(healthy, "health of registered actors", "a registered actor is not alive")
            out.expect(
                spread <= tol,
                "load balance within tolerance",
                f"per-service counts {counts} (tol {tol:.0%})",
            )
            out.expect(
                bool(notices) and notices[0].ref.id == refs[0].id,
                "watch delivers Terminated",
                f"{len(notices)} Terminated notices",
            )
            out.expect(
                late_seen and late[0].ref.id == refs[0].id,
                "watch of a stopped actor delivers Terminated",
                f"watch after the stop: {len(late)} Terminated notices once the watcher was idle",
            )
            out.expect(
                gone is None and refs[0].id not in svc_after and "svc-0" not in reg.names(),
                "deregistration on stop",
                f"stopped actor still registered: lookup={gone}, in service list={refs[0].id in svc_after}",
            )
            self.finish(out, s, "test_actor_discovery_communication")
