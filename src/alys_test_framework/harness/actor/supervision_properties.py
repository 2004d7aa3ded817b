"""supervision_properties: for any generated crash schedule, restarts happen exactly as the
strategy, the restart type and the intensity say (docs/ACTORS_API.md).

The model (``expected_after``) is the contract: a crash of a live child under ``never`` stops
that child only; otherwise, while fewer than ``max_restarts`` restarts happened in the window,
the strategy's scope among the live children is rebuilt (one_for_one: the child; one_for_all:
every child; rest_for_one: the child and those started after it) and the restart is logged;
one crash more than that stops every child and the supervisor escalates (a top-level one
stops). A crash of a stopped child is refused and changes nothing. Under exponential backoff
the n-th restart of a child waits min(cap, base·2^(n-1)) (jitter 0 here): the logged delay
must equal it and the measured FAILED→RUNNING time may not be shorter. A restart scope of
several children is rebuilt in start order (docs/ACTORS_API.md), so the order fresh instances
are built in is the model's too; each child's own restart counter (``stats.restarts``, where
the runtime has stats) equals the fresh instances built for it after the first. What is
measured: fresh instances built per child and their order, who is alive, the restart log, the
restart counters — all reported by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from ...generators.actors import SupervisionCase, supervision_cases
from ...targets.actor_runtime import ActorHandle, ChildSpec, RestartSpec, Strategy
from ..base import Outcome, harness_test
from .kit.behaviours import Crash, Instances
from .kit.harness import try_tell
from .kit.properties import ActorPropertyBase
from .kit.session import ActorSession

BASE_S, CAP_S = 0.004, 0.016
WINDOW_S = 30.0  # every crash of a case falls in one intensity window
SETTLED = ("RUNNING", "STOPPED")


@dataclass
class Expected:
    built: list[int]
    alive: list[bool]
    order: list[int] = field(default_factory=list)  # child index of every construction
    supervisor_alive: bool = True
    restarts: int = 0
    delays: list[float] = field(default_factory=list)  # logged delay of each restart


def expected_after(case: SupervisionCase) -> Expected:
    n = case.children
    e = Expected([1] * n, [True] * n, list(range(n)))
    attempts = [0] * n
    for c in case.crashes:
        if not e.supervisor_alive or not e.alive[c]:
            continue  # refused: a stopped child cannot crash
        if case.restart == "never":
            e.alive[c] = False
            continue
        if e.restarts >= case.max_restarts:
            e.alive = [False] * n
            e.supervisor_alive = False
            continue
        e.restarts += 1
        attempts[c] += 1
        e.delays.append(
            min(CAP_S, BASE_S * 2 ** (attempts[c] - 1))
            if case.restart == "exponential_backoff"
            else 0.0
        )
        scope = {Strategy.ONE_FOR_ONE: [c], Strategy.ONE_FOR_ALL: list(range(n)),
                 Strategy.REST_FOR_ONE: list(range(c, n))}[case.strategy]  # fmt: skip
        for i in scope:  # ascending: start order
            if e.alive[i]:
                e.built[i] += 1
                e.order.append(i)
    return e


class SupervisionPropertyTests(ActorPropertyBase):
    categories: ClassVar[tuple[str, ...]] = ("supervision_properties",)

    def _capabilities(self) -> tuple[tuple[Strategy, ...], tuple[str, ...]]:
        strategies = tuple(
            s
            for s in Strategy
            if s is Strategy.ONE_FOR_ONE or self.target.supports(f"strategy:{s.value}")
        )
        restarts = ("always", "never") + (
            ("exponential_backoff",) if self.target.supports("restart:exponential_backoff") else ()
        )
        return strategies, restarts

    @harness_test("supervision_properties", timeout_s=240)
    async def test_property_restart_schedule(self, out: Outcome) -> None:
        """Generated trees (strategy, restart type, intensity, children) and crash schedules."""
        self.needs(out, "supervision")
        strategies, restarts = self._capabilities()
        out.record(strategies=[s.value for s in strategies], restart_types=list(restarts))
        async with self.session("prop-supervision") as s:
            counter = iter(range(10**9))

            async def check(case: SupervisionCase) -> None:
                await self._check_case(s, case, next(counter))

            await self.actor_property(
                out, "test_property_restart_schedule", "restarts follow strategy, type and intensity",
                supervision_cases(strategies=strategies, restarts=restarts), check,
                self.examples("supervision_examples"),
            )  # fmt: skip
            self.emit_session("test_property_restart_schedule", s)

    @staticmethod
    def _settled(
        s: ActorSession, ref: ActorHandle, failed_before: int, tree: list[ActorHandle]
    ) -> bool:
        """The crash was seen, then nothing of this tree is mid-restart (the supervisor idle)."""
        return (
            s.monitor.count(ref, "FAILED") > failed_before
            and all(s.monitor.current_state(r) in SETTLED for r in tree)
            and s.tracker.idle([tree[0]])
        )

    async def _check_case(self, s: ActorSession, case: SupervisionCase, k: int) -> None:
        inst = Instances()
        names = [f"c{k}.{i}" for i in range(case.children)]
        restart = {
            "always": RestartSpec.always(),
            "never": RestartSpec.never(),
            "exponential_backoff": RestartSpec.exponential_backoff(BASE_S, CAP_S, 0.0),
        }[case.restart]
        sup = await s.system.spawn_supervisor(
            [ChildSpec(f"{i}", inst.factory(n)) for i, n in enumerate(names)],
            strategy=case.strategy, restart=restart, max_restarts=case.max_restarts,
            within_s=WINDOW_S, name=f"sup{k}",
        )  # fmt: skip
        kids = [sup.child(f"{i}") for i in range(case.children)]
        try:
            for c in case.crashes:
                ref = kids[c]
                failed_before = s.monitor.count(ref, "FAILED")
                if not ref.is_alive or not await try_tell(ref, Crash(f"crash {c}")):
                    continue
                # settled: the crash was seen, then nothing of this tree is mid-restart
                await s.monitor.wait_until(partial(self._settled, s, ref, failed_before, [sup, *kids]),
                                           self.timeout_s)  # fmt: skip
            want = expected_after(case)
            got_built = [inst.built.get(n, 0) for n in names]
            got_alive = [r.is_alive for r in kids]
            assert got_built == want.built, f"instances built {got_built}, documented {want.built}"
            assert got_alive == want.alive, f"children alive {got_alive}, documented {want.alive}"
            got_order = [names.index(n) for n in inst.order]
            assert got_order == want.order, (
                f"instances built in child order {got_order}, documented {want.order} "
                "(a restart scope comes back up in start order)"
            )
            if self.target.supports("stats"):
                counted = [r.stats.restarts if r.stats is not None else None for r in kids]
                want_counted = [b - 1 for b in want.built]
                assert counted == want_counted, (
                    f"children's stats.restarts {counted}, documented {want_counted}"
                )
            assert sup.is_alive == want.supervisor_alive, (
                f"supervisor alive={sup.is_alive}, documented {want.supervisor_alive}"
            )
            log = sup.restart_log
            assert len(log) == want.restarts, (
                f"{len(log)} restarts logged, documented {want.restarts}"
            )
            logged = [round(r.delay_s, 6) for r in log]
            assert logged == [round(d, 6) for d in want.delays], (
                f"logged delays {logged} s, documented {want.delays} s"
            )
            if case.restart == "exponential_backoff":
                for i, r in enumerate(kids):
                    measured = s.monitor.restart_delays(r)
                    short = [d for d in measured if d < BASE_S * 0.9]
                    assert not short, (
                        f"child {i} restarted after {short[0] * 1e3:.2f} ms < base {BASE_S * 1e3:g} ms"
                    )
        finally:
            if sup.is_alive:
                await s.system.stop(sup, self.timeout_s)
