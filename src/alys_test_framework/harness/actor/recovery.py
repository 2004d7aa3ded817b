"""Recovery tests: injected panics, restart policies with measured backoff, failure cascades.

Restarts are seen three ways: lifecycle transitions (monitor), fresh instances actually built
(Instances), and the supervisor's restart log. Backoff delays are measured from the FAILED
report to the next RUNNING report and compared with the policy's formula, not the runtime's.
"""

from __future__ import annotations

import time
from functools import partial
from typing import ClassVar

from ...targets.actor_runtime import ActorHandle, AskTimeout, ChildSpec, RestartSpec, Strategy
from ..base import Outcome, harness_test
from .kit.behaviours import Block, Crash, Gate, GetCount, InjectedFailure, Instances, Poison
from .kit.harness import ActorHarnessBase, try_ask, try_tell
from .kit.session import ActorSession
from .kit.tracker import Probe

JITTER = 0.1
SLACK_S = 0.1  # scheduling slack on a loaded machine, on top of the jitter band
SLACK_REL = 0.5


class RecoveryTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("recovery",)

    async def _crash_and_wait(self, s: ActorSession, ref: ActorHandle, times: int) -> bool:
        """Crash ``ref`` ``times`` times, each time waiting for the restart to be reported."""
        base = s.monitor.count(ref, "RUNNING")
        for i in range(times):
            if not await try_tell(ref, Crash(f"crash {i}")):
                return False
            if not await s.monitor.wait_for_state(ref, "RUNNING", self.timeout_s, base + i + 1):
                return False
        return True

    @harness_test("recovery")
    async def test_panic_injection_recovery(self, out: Outcome) -> None:
        self.needs(out, "supervision")
        inst = Instances()
        m = 20
        t_ask = min(0.2, self.timeout_s / 4)
        async with self.session("panic") as s:
            specs = [ChildSpec(n, inst.factory(n)) for n in ("exc", "hang", "poison")]
            sup = await s.system.spawn_supervisor(specs, name="panic", **self.supervisor_kwargs())
            exc, hang, poison = (sup.child(n) for n in ("exc", "hang", "poison"))
            # 1. exception in a handler
            await exc.tell(Crash("panic"))
            exc_ok = await s.monitor.wait_for_state(exc, "RUNNING", self.timeout_s, 2)
            exc_reply = await try_ask(exc, Probe("exc", 0, 1), self.timeout_s)
            seen = [
                f for f in s.failures if f.ref.id == exc.id and isinstance(f.error, InjectedFailure)
            ]
            # 2. a handler that hangs past the ask timeout
            gate = Gate()
            t0 = time.perf_counter()
            try:
                await hang.ask(Block(gate), timeout_s=t_ask)
                hang_timeout = False
            except AskTimeout:
                hang_timeout = True
            waited = time.perf_counter() - t0
            for i in range(m):
                await try_tell(hang, Probe("queued", i))
            sibling = await try_ask(poison, Probe("sibling", 0, 2), self.timeout_s)
            gate.release.set()
            drained = await s.tracker.wait_until(
                lambda: sum(1 for k in s.tracker.keys(hang, "processed") if k[0] == "queued") >= m,
                self.timeout_s,
            )
            # 3. a poison message followed by ordinary ones
            await try_tell(poison, Poison())
            for i in range(m):
                await try_tell(poison, Probe("after-poison", i))
            poison_ok = await s.monitor.wait_for_state(poison, "RUNNING", self.timeout_s, 2)
            after = await s.tracker.wait_until(
                lambda: (
                    sum(1 for k in s.tracker.keys(poison, "processed") if k[0] == "after-poison")
                    >= m
                ),
                self.timeout_s,
                idle_refs=[poison],
            )
            poison_failures = sum(1 for f in s.failures if f.ref.id == poison.id)
            out.record(
                exception_restarts=exc.stats.restarts if exc.stats is not None else None,
                ask_timeout_s=t_ask,
                hang_detected_after_s=round(waited, 4),
                poison_failures=poison_failures,
                built=dict(inst.built),
            )
            out.expect(
                exc_ok and exc_reply == 1 and inst.built.get("exc") == 2 and len(seen) == 1,
                "recovery from handler exception",
                f"restarted={exc_ok}, fresh instances={inst.built.get('exc', 0) - 1}, observed failures={len(seen)}",
            )
            out.expect(
                hang_timeout and t_ask * 0.95 <= waited <= t_ask + max(0.1, t_ask),
                "hang detected by ask timeout",
                f"timeout raised={hang_timeout} after {waited:.3f} s (timeout {t_ask} s)",
            )
            out.expect(
                sibling == 2, "siblings unaffected by a hang", f"sibling replied {sibling!r}"
            )
            out.expect(
                drained,
                "no message loss after a hang",
                "queued messages not processed after release",
            )
            out.expect(
                poison_ok and after and poison_failures == 1 and inst.built.get("poison") == 2,
                "recovery from poison message",
                f"restarted={poison_ok}, later messages processed={after}, failures={poison_failures}",
            )
            self.finish(out, s, "test_panic_injection_recovery")

    @harness_test("recovery")
    async def test_supervisor_restart_validation(self, out: Outcome) -> None:
        self.needs(out, "supervision", "restart:exponential_backoff")
        r = max(1, self.acfg.max_retries)
        base = self.acfg.backoff_base_ms / 1000.0
        cap = max(base, self.acfg.backoff_cap_ms / 1000.0)
        inst = Instances()
        async with self.session("restart-policies") as s:
            # always, then one failure beyond the intensity limit
            sup = await s.system.spawn_supervisor(
                [ChildSpec("always", inst.factory("always"))],
                name="sup-always",
                **self.supervisor_kwargs(),
            )
            child = sup.child("always")
            always_ok = await self._crash_and_wait(s, child, r)
            reply = await try_ask(child, Probe("always", 0, 5), self.timeout_s)
            always_built = inst.built.get("always", 0)
            await try_tell(child, Crash("one too many"))
            # decided once both are down, or the child came back, or the supervisor sits
            # RUNNING and idle with the child stopped (it will not escalate any more)
            await s.monitor.wait_until(
                lambda: (
                    s.monitor.count(child, "RUNNING") > r + 1
                    or (s.monitor.current_state(child) == "STOPPED")
                    and (
                        s.monitor.current_state(sup) == "STOPPED"
                        or (s.monitor.current_state(sup) == "RUNNING" and s.tracker.idle([sup]))
                    )
                ),
                self.timeout_s,
            )
            escalated = s.monitor.current_state(child) == "STOPPED"
            sup_down = s.monitor.current_state(sup) == "STOPPED"
            esc_seen = any(f.escalated and f.ref.id == sup.id for f in s.failures)
            # never
            nsup = await s.system.spawn_supervisor(
                [ChildSpec("never", inst.factory("never"))],
                name="sup-never",
                **self.supervisor_kwargs(restart=RestartSpec.never()),
            )
            never = nsup.child("never")
            await try_tell(never, Crash("never"))
            never_stopped = await s.monitor.wait_for_state(never, "STOPPED", self.timeout_s)
            # exponential backoff
            policy = RestartSpec.exponential_backoff(base, cap, JITTER)
            bsup = await s.system.spawn_supervisor(
                [ChildSpec("backoff", inst.factory("backoff"))],
                name="sup-backoff",
                **self.supervisor_kwargs(
                    restart=policy, within_s=max(self.acfg.restart_window_s, 4 * cap * r)
                ),
            )
            bchild = bsup.child("backoff")
            backoff_ok = await self._crash_and_wait(s, bchild, r)
            measured = s.monitor.restart_delays(bchild)
            expected = [min(cap, base * 2**i) for i in range(r)]
            bad = []
            for i, (d, e) in enumerate(zip(measured, expected, strict=False)):
                lo, hi = e * (1 - JITTER) - 0.002, e * (1 + JITTER) * (1 + SLACK_REL) + SLACK_S
                if not lo <= d <= hi:
                    bad.append(
                        f"restart {i + 1}: {d * 1e3:.1f} ms not in [{lo * 1e3:.1f}, {hi * 1e3:.1f}] ms"
                    )
            claimed = [rec.delay_s for rec in bsup.restart_log]
            bad_claims = [
                f"log {c * 1e3:.1f} ms vs policy {e * 1e3:.1f} ms"
                for c, e in zip(claimed, expected, strict=False)
                if not e * (1 - JITTER) - 1e-9 <= c <= e * (1 + JITTER) + 1e-9
            ]
            out.record(
                max_restarts=r,
                always_restarts=len(sup.restart_log),
                never_restarts=len(nsup.restart_log),
                backoff_expected_ms=[round(e * 1e3, 2) for e in expected],
                backoff_measured_ms=[round(d * 1e3, 2) for d in measured],
                backoff_logged_ms=[round(c * 1e3, 2) for c in claimed],
                tolerance=f"[-{JITTER:.0%} -2 ms, +{JITTER:.0%} x{1 + SLACK_REL} +{SLACK_S * 1e3:.0f} ms]",
            )
            out.expect(
                always_ok and reply == 5 and always_built == r + 1,
                "restart policy always",
                f"{always_built - 1} fresh instances after {r} failures",
            )
            out.expect(
                escalated and sup_down and esc_seen and len(sup.restart_log) == r,
                "restart intensity limit",
                f"failure {r + 1} within {self.acfg.restart_window_s} s: child stopped={escalated}, "
                f"supervisor stopped={sup_down}, restarts logged={len(sup.restart_log)} (max {r})",
            )
            out.expect(
                never_stopped and inst.built.get("never") == 1 and not nsup.restart_log,
                "restart policy never",
                f"child stopped={never_stopped}, instances built={inst.built.get('never')}",
            )
            out.expect(
                backoff_ok and len(measured) == r and not bad,
                "exponential backoff delays",
                f"{len(measured)} of {r} restarts measured; " + "; ".join(bad[:3]),
            )
            out.expect(not bad_claims, "restart log matches policy", "; ".join(bad_claims[:3]))
            self.finish(out, s, "test_supervisor_restart_validation")

    @harness_test("recovery")
    async def test_cascading_failure_prevention(self, out: Outcome) -> None:
        self.needs(out, "supervision", "strategy:one_for_all", "strategy:rest_for_one")
        inst = Instances()
        results: dict[str, object] = {}
        async with self.session("cascade") as s:
            for strategy, names, crash, expect_rebuilt in (
                (Strategy.ONE_FOR_ONE, "abc", "b", "b"),
                (Strategy.ONE_FOR_ALL, "abc", "b", "abc"),
                (Strategy.REST_FOR_ONE, "abcd", "b", "bcd"),
            ):
                tag = strategy.value
                specs = [ChildSpec(n, inst.factory(f"{tag}.{n}")) for n in names]
                sup = await s.system.spawn_supervisor(
                    specs, name=f"sup-{tag}", **self.supervisor_kwargs(strategy=strategy)
                )
                kids = {n: sup.child(n) for n in names}
                for ref in kids.values():
                    await try_ask(ref, Probe(tag, 0, 0), self.timeout_s)
                await try_tell(kids[crash], Crash(tag))
                # the supervisor restarts its whole scope inside one handler: once the crashed
                # child runs again and the supervisor is idle, the scope restart is complete
                await s.monitor.wait_for_state(kids[crash], "RUNNING", self.timeout_s, 2)
                await s.tracker.wait_until(partial(s.tracker.idle, [sup]), self.timeout_s)
                counts = {n: await try_ask(kids[n], GetCount(), self.timeout_s) for n in names}
                rebuilt = "".join(n for n in names if inst.built.get(f"{tag}.{n}", 0) > 1)
                results[tag] = rebuilt
                out.expect(
                    rebuilt == expect_rebuilt,
                    f"{tag} restarts exactly the right set",
                    f"crash of {crash} restarted [{rebuilt}], expected [{expect_rebuilt}]",
                )
                kept = all(counts[n] == 1 for n in names if n not in expect_rebuilt)
                out.expect(
                    kept, f"{tag} preserves state outside its scope", f"message counts {counts}"
                )
            # intensity exceeded in a child supervisor escalates to its parent
            parent = await s.system.spawn_supervisor([], name="parent", **self.supervisor_kwargs())
            sibling = await s.system.spawn_supervisor(
                [ChildSpec("calm", inst.factory("calm"))],
                name="calm-sup",
                parent=parent,
                **self.supervisor_kwargs(),
            )
            inner = await s.system.spawn_supervisor(
                [ChildSpec("flaky", inst.factory("flaky"))],
                name="inner",
                parent=parent,
                **self.supervisor_kwargs(max_restarts=1),
            )
            flaky = inner.child("flaky")
            await self._crash_and_wait(s, flaky, 1)
            await try_tell(flaky, Crash("beyond intensity"))
            await s.monitor.wait_until(
                lambda: (
                    s.monitor.count(inner, "RUNNING") >= 2 or s.monitor.count(flaky, "RUNNING") >= 3
                ),
                self.timeout_s,
            )
            escalated = s.monitor.count(inner, "RUNNING") >= 2
            live = [c for c in inner.children() if c.is_alive]
            reply = await try_ask(live[0], Probe("flaky", 0, 9), self.timeout_s) if live else None
            calm = sibling.child("calm")
            calm_disturbed = s.monitor.count(calm, "STOPPING") + s.monitor.count(
                sibling, "STOPPING"
            )
            out.record(
                rebuilt=results,
                parent_restarts=len(parent.restart_log),
                inner_restarts=len(inner.restart_log),
                flaky_instances=inst.built.get("flaky", 0),
            )
            out.expect(
                escalated and len(parent.restart_log) == 1,
                "intensity exceeded escalates",
                f"inner supervisor restarted by parent={escalated}, parent restart log {len(parent.restart_log)}",
            )
            out.expect(reply == 9, "escalated subtree recovers", f"rebuilt child replied {reply!r}")
            out.expect(
                calm_disturbed == 0, "escalation isolated from siblings", f"{calm_disturbed} stops"
            )
            self.finish(out, s, "test_cascading_failure_prevention")
