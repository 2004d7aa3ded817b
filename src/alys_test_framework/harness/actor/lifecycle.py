"""Lifecycle tests: creation, supervision trees, the full state machine and resource release.

States come from the runtime's lifecycle observers (LifecycleMonitor); "started once" and
"stopped once" come from the actors' own on_start/on_stop; leaks are tasks and registry names
the system still holds after shutdown.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from ...targets.actor_runtime import (
    ActorHandle,
    ActorStopped,
    ChildSpec,
    RestartSpec,
    SupervisorHandle,
)
from ..base import Outcome, harness_test
from .kit.behaviours import Crash, Instances
from .kit.harness import ActorHarnessBase, try_ask, try_tell
from .kit.tracker import Probe

CREATE = ["UNINITIALIZED", "STARTING", "RUNNING"]
STOP = ["RUNNING", "STOPPING", "STOPPED"]
FULL = [
    "UNINITIALIZED",
    "STARTING",
    "RUNNING",
    "FAILED",
    "RECOVERING",
    "RUNNING",
    "STOPPING",
    "STOPPED",
]


class LifecycleTests(ActorHarnessBase):
    categories: ClassVar[tuple[str, ...]] = ("lifecycle",)

    @harness_test("lifecycle")
    async def test_actor_creation_lifecycle(self, out: Outcome) -> None:
        n = min(self.scale("actor_count", 4), self.acfg.max_actors)
        inst = Instances()
        async with self.session("creation") as s:
            names = [f"life-{i}" for i in range(n)]
            refs = [await s.system.spawn(inst.factory(nm), name=nm) for nm in names]
            replies = await asyncio.gather(
                *(r.ask(Probe("life", i, i), timeout_s=self.timeout_s) for i, r in enumerate(refs))
            )
            created = sum(s.monitor.contains_path(r, CREATE) for r in refs)
            for r in refs:
                await s.system.stop(r)
            stopped = sum(s.monitor.contains_path(r, STOP) for r in refs)
            refused = 0
            for r in refs[:5]:
                try:
                    await r.tell(Probe("late", 0))
                except ActorStopped:
                    refused += 1
            illegal = s.monitor.verify_transitions()
            report = await s.shutdown_and_measure()
            out.record(
                actors=n,
                created_path_ok=created,
                stopped_path_ok=stopped,
                leaked_tasks=len(report.tasks),
                leaked_workers=report.workers[:5],
                registry_left=len(report.registry_names),
            )
            out.expect(
                list(replies) == list(range(n)), "actors respond after creation", "wrong replies"
            )
            out.expect(
                created == n,
                "creation lifecycle",
                f"{n - created} actors missed {'->'.join(CREATE)}",
            )
            out.expect(
                all(inst.started.get(nm) == 1 and inst.built.get(nm) == 1 for nm in names),
                "each actor built and started exactly once",
                f"started {sorted(set(inst.started.values()))} times",
            )
            out.expect(
                stopped == n, "stop lifecycle", f"{n - stopped} actors missed {'->'.join(STOP)}"
            )
            out.expect(
                all(inst.stopped.get(nm) == 1 for nm in names),
                "on_stop runs once on graceful stop",
                f"on_stop counts {sorted(set(inst.stopped.values()))}",
            )
            out.expect(refused == min(5, n), "stopped actors refuse messages", f"{refused} refused")
            out.expect(not illegal, "legal state transitions", "; ".join(illegal[:3]))
            out.expect(
                report.leaked == 0 and not report.registry_names,
                "resources released",
                f"{len(report.tasks)} tasks and {len(report.workers)} workers left, "
                f"registry still has {report.registry_names[:5]}",
            )
            self.finish(out, s, "test_actor_creation_lifecycle")

    @harness_test("lifecycle")
    async def test_actor_supervision_tree(self, out: Outcome) -> None:
        self.needs(out, "supervision")
        leaves = 3
        inst = Instances()
        async with self.session("tree") as s:
            root = await s.system.spawn_supervisor([], name="root", **self.supervisor_kwargs())
            mids: list[SupervisorHandle] = []
            for m in range(2):
                specs = [
                    ChildSpec(f"leaf{j}", inst.factory(f"m{m}.leaf{j}")) for j in range(leaves)
                ]
                mids.append(
                    await s.system.spawn_supervisor(
                        specs, name=f"mid{m}", parent=root, **self.supervisor_kwargs()
                    )
                )
            shape_ok = [c.id for c in root.children()] == [m.id for m in mids] and all(
                len(m.children()) == leaves for m in mids
            )
            target_leaf = mids[0].child("leaf1")
            others = [c for m in mids for c in m.children() if c.id != target_leaf.id]
            await try_tell(target_leaf, Crash("tree"))
            restarted = await s.monitor.wait_for_state(target_leaf, "RUNNING", self.timeout_s, 2)
            reply = await try_ask(target_leaf, Probe("tree", 0, 7), self.timeout_s)
            disturbed = [
                c.name
                for c in others
                if s.monitor.count(c, "STOPPING") or s.monitor.count(c, "FAILED")
            ]
            logs = (len(root.restart_log), len(mids[0].restart_log), len(mids[1].restart_log))
            order = [root, *mids, *[c for m in mids for c in m.children()]]
            await s.shutdown_and_measure(timeout_s=self.timeout_s)
            stop_t = {r.id: s.monitor.last_time(r, "STOPPED") for r in order}
            tree: list[tuple[ActorHandle, list[ActorHandle]]] = [
                (root, list(mids)),
                *[(m, m.children()) for m in mids],
            ]
            bad_order = []
            for parent, kids in tree:
                t_parent = stop_t[parent.id]
                for kid in kids:
                    t_kid = stop_t[kid.id]
                    if t_kid is None or t_parent is None or t_kid > t_parent:
                        bad_order.append(f"{kid.name} after its supervisor {parent.name}")
                for a, b in zip(kids, kids[1:], strict=False):
                    t_a, t_b = stop_t[a.id], stop_t[b.id]
                    if t_a is not None and t_b is not None and t_a < t_b:
                        bad_order.append(f"{a.name} before later-started {b.name}")
            out.record(restart_logs=logs, disturbed=disturbed, stop_order_violations=len(bad_order))
            out.expect(
                shape_ok, "supervision tree structure", "children() does not match the spawned tree"
            )
            out.expect(
                restarted and reply == 7,
                "leaf restarted by its supervisor",
                f"restarted={restarted}",
            )
            out.expect(
                logs == (0, 1, 0),
                "failure handled by the nearest supervisor",
                f"restart logs root/mid0/mid1 = {logs}, expected (0, 1, 0)",
            )
            out.expect(not disturbed, "siblings isolated (one_for_one)", f"disturbed: {disturbed}")
            out.expect(not bad_order, "shutdown in reverse start order", "; ".join(bad_order[:3]))
            self.finish(out, s, "test_actor_supervision_tree")

    @harness_test("lifecycle")
    async def test_actor_state_transitions(self, out: Outcome) -> None:
        self.needs(out, "supervision")
        inst = Instances()
        async with self.session("state-machine") as s:
            sup = await s.system.spawn_supervisor(
                [ChildSpec("machine", inst.factory("machine"))],
                name="sm",
                **self.supervisor_kwargs(),
            )
            child = sup.child("machine")
            await try_tell(child, Crash("state machine"))
            recovered = await s.monitor.wait_for_state(child, "RUNNING", self.timeout_s, 2)
            alive_reply = await try_ask(child, Probe("sm", 0, 3), self.timeout_s)
            state_agrees = s.monitor.current_state(child) == child.state
            await s.system.stop(child)
            full_path = s.monitor.contains_path(child, FULL)
            nsup = await s.system.spawn_supervisor(
                [ChildSpec("once", inst.factory("once"))],
                name="never",
                **self.supervisor_kwargs(restart=RestartSpec.never()),
            )
            once = nsup.child("once")
            await try_tell(once, Crash("never"))
            ended = await s.monitor.wait_for_state(once, "STOPPED", self.timeout_s)
            never_path = s.monitor.states_of(once)
            illegal = s.monitor.verify_transitions()
            report = await s.shutdown_and_measure()
            out.record(
                machine_states=s.monitor.states_of(child),
                never_states=never_path,
                leaked_tasks=len(report.tasks),
                registry_left=report.registry_names,
            )
            out.expect(
                recovered and alive_reply == 3,
                "recovery to RUNNING",
                f"states {s.monitor.states_of(child)}",
            )
            out.expect(state_agrees, "ref.state matches observed state", f"ref says {child.state}")
            out.expect(
                full_path, "full state machine", f"observed {'->'.join(s.monitor.states_of(child))}"
            )
            out.expect(
                ended and "FAILED" in never_path and "RECOVERING" not in never_path,
                "failed actor without restart ends STOPPED",
                f"observed {'->'.join(never_path)}",
            )
            out.expect(not illegal, "legal state transitions", "; ".join(illegal[:3]))
            out.expect(
                report.leaked == 0,
                "resources released",
                f"{len(report.tasks)} tasks and {len(report.workers)} workers left",
            )
            out.expect(
                not report.registry_names,
                "registry empty after shutdown",
                f"registry still holds {report.registry_names[:5]}",
            )
            self.finish(out, s, "test_actor_state_transitions")
