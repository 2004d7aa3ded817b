"""ChaosRun: one chaos run on a real cluster, through the six phases of the scheduler.

Initializing (spec with ``producers`` authorities, cluster of ``nodes`` processes: nodes
0..producers-1 produce in dev mode, each with its own authority key, node 0 on a size-limited
tmpfs datadir; the rest follow; full mesh through the fault proxy; history recorder) → PreChaosHealthCheck (every node healthy and in sync; baseline delivery delay) →
ChaosInjection (the seeded schedule; a client workload of block productions and head queries
recorded in the history; health sampled) → RecoveryValidation (faults cleared, every node
converges on the producer's head) → PostChaosHealthCheck (every node healthy; the cluster
checkers judge the whole history) → Completed (the ChaosReport).

Clean-up: every kernel resource goes through the ``CleanupJournal`` (replayed on every exit
path and by its watchdog); node processes through the cluster's reaper.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from ..checkers import CheckerBounds, run_checkers
from ..events import EventLog
from ..oracles.chain import ChainOracle, OracleSpec, Violation
from ..targets.cluster import NodeCluster
from ..targets.cluster.fixture import NodeTarget
from ..targets.cluster.history_recorder import HistoryRecorder
from ..waiting import Stalled, WaitTimeout, wait_for_progress, wait_until
from .cleanup import CleanupJournal, replay_stale
from .events import ChaosEvent, ChaosEventType
from .health import SystemHealthMonitor
from .mechanisms import ChaosContext, Mechanism, select
from .mechanisms.base import delivery_delays, head, median, reconnect
from .mechanisms.resource import DiskFailureFault, mount_faulty
from .report import ChaosReport, EventResult
from .scheduler import ChaosEventScheduler, ChaosPhase, ScheduleSpec, format_schedule

TMPFS_MIB = 32
RPC_BATCH_LIMIT = 100
REDIAL_AFTER_S = 5.0
STALL_S = 30.0  # no progress for this long ends a wait of the run's own set-up
RECOVERY_BOUND_X = 6  # a recovery still progressing is given this many stall windows in all


@dataclass
class ChaosSettings:
    seed: int = 0
    duration_s: float = 60.0
    event_frequency: float = 2.0
    max_concurrent_events: int = 1
    allowed: tuple[ChaosEventType, ...] = tuple(ChaosEventType)
    nodes: int = 3
    recovery_timeout_s: float = 30.0
    produce_interval_s: float = 0.25
    node_command: Sequence[str] = ("{python}", "-m", "alys_node")
    cover_all: bool = True
    convergence_s: float = 60.0
    # two authorities: a partition splits them, both sides extend their own branch, and the
    # heal makes fork choice pick one (one producer never forks)
    producers: int = 2
    network: str = "auto"  # proxy | kernel | auto (mechanisms.select)

    def schedule_spec(self) -> ScheduleSpec:
        return ScheduleSpec(self.seed, self.duration_s, self.event_frequency,
                            self.max_concurrent_events, tuple(self.allowed), self.nodes,
                            self.cover_all, self.producers)  # fmt: skip

    def schedule(self) -> list[ChaosEvent]:
        return ChaosEventScheduler(self.schedule_spec()).schedule()


@dataclass
class ChaosRun:
    settings: ChaosSettings
    workdir: Path
    log: Any = print
    phases: list[dict[str, Any]] = field(default_factory=list)
    results: list[EventResult] = field(default_factory=list)
    ops_total: int = 0
    ops_ok: int = 0
    errors: list[str] = field(default_factory=list)
    liveness: list[Violation] = field(default_factory=list)  # S4 from stalled recoveries
    _stall: tuple[int, tuple[int, ...], float] | None = None  # (goal, heads, window) last stall

    def _phase(self, phase: ChaosPhase) -> None:
        self.phases.append({"phase": phase.value, "t": time.time()})
        self.log(f"[chaos] phase {phase.value}")

    async def run(self) -> ChaosReport:
        s = self.settings
        self._phase(ChaosPhase.INITIALIZING)
        replay_stale()
        for old in ("cluster", "spec", "history.jsonl"):  # a run starts from nothing
            p = self.workdir / old
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        schedule = s.schedule()
        lines = format_schedule(schedule)
        self.log(f"[chaos] seed {s.seed}: {len(schedule)} events")
        for line in lines:
            self.log(f"[chaos]   {line}")
        journal = CleanupJournal()
        events = EventLog()
        target = NodeTarget.parse(list(s.node_command), None)
        cluster = NodeCluster(target.command, workdir=self.workdir / "cluster", events=events,
                              seed=s.seed)  # fmt: skip
        monitor = SystemHealthMonitor(cluster)
        rec: HistoryRecorder | None = None
        checkers: dict[str, Any] = {}
        convergence: float | None = None
        t_inj0 = time.time()
        injection_s = 0.0
        try:
            spec_dir = await _init_spec(target, self.workdir / "spec", s.seed, s.producers)
            keys = [spec_dir / f"authority-{i}.key" for i in range(s.producers)]
            ctx = ChaosContext(cluster, journal, self.workdir, spec_dir / "chain-spec.json",
                               keys, producers=tuple(range(s.producers)),
                               run_tag=f"alys-chaos-{os.getpid()}")  # fmt: skip
            await self._launch(ctx, target, schedule)
            rec = _Recorder(cluster.nodes, self.workdir / "history.jsonl")
            ctx.recorder = rec
            rec.listen(events)
            await rec.start()
            stop = asyncio.Event()
            workload = asyncio.create_task(self._workload(ctx, rec, stop))
            monitor.start()

            self._phase(ChaosPhase.PRE_CHAOS_HEALTH_CHECK)
            await wait_for_progress(lambda: head(ctx, ctx.producer),
                                    lambda h: h is not None and h >= 5, "producer past height 5",
                                    stall_s=STALL_S, poll_s=0.05)  # fmt: skip
            if await self._caught_up(ctx, STALL_S) is None:
                raise WaitTimeout("every node caught up with the producer", STALL_S, None)
            await self._all_healthy(ctx, 30)
            for i in ctx.others(ctx.producer):
                top = await head(ctx, i) or 0
                d = median(await delivery_delays(ctx, ctx.producer, i, max(1, top - 20), top))
                ctx.baseline_delay_s[i] = d or 0.0
            self.log(f"[chaos] baseline delivery delay s: {ctx.baseline_delay_s}")

            self._phase(ChaosPhase.CHAOS_INJECTION)
            t_inj0 = time.time()
            t0 = time.monotonic()
            await asyncio.gather(*(self._event(ctx, e, t0) for e in schedule))
            left = s.duration_s - (time.monotonic() - t0)
            if left > 0:
                await asyncio.sleep(left)  # the workload keeps running to the end of the window
            injection_s = time.time() - t_inj0

            self._phase(ChaosPhase.RECOVERY_VALIDATION)
            assert cluster.proxy is not None
            cluster.proxy.clear_all()
            stop.set()
            await workload
            try:
                convergence, _ = await cluster.wait_heads_in_sync(s.convergence_s)
            except WaitTimeout as exc:
                self.errors.append(f"no convergence after the last fault: {exc}")

            self._phase(ChaosPhase.POST_CHAOS_HEALTH_CHECK)
            try:
                await self._all_healthy(ctx, 30)
            except WaitTimeout as exc:
                self.errors.append(f"post-chaos health: {exc}")
            await monitor.stop()
            await rec.stop()
            oracle = ChainOracle(OracleSpec.load(ctx.spec_file))
            checkers = run_checkers(
                rec.history(), oracle,
                CheckerBounds(convergence_s=s.convergence_s, max_peers=25),
            )  # fmt: skip
            checkers["liveness"] = self.liveness  # the recoveries judged during the run
            rec = None
        finally:
            await monitor.stop()
            if rec is not None:
                with contextlib.suppress(Exception):
                    await rec.stop()
            await cluster.close()
            journal.close()
        self._phase(ChaosPhase.COMPLETED)
        return ChaosReport(s.seed, lines, sorted(self.results, key=lambda r: r.event["start_s"]),
                           self.phases, self.ops_total, self.ops_ok, injection_s, checkers,
                           monitor.availability(), convergence, self.errors)  # fmt: skip

    # -- setup ----------------------------------------------------------------------------
    async def _launch(
        self, ctx: ChaosContext, target: NodeTarget, schedule: Sequence[ChaosEvent] = ()
    ) -> None:
        s = self.settings
        faulty = {i for e in schedule if e.type is ChaosEventType.DISK_FAILURE
                  for i in e.targets} if DiskFailureFault.unavailable() is None else set()  # fmt: skip
        c = ctx.cluster
        spec_args = ["--chain-spec", str(ctx.spec_file), "--ban-seconds", "3"] + target.bug_args
        data0 = c.root / "node-0"
        data0.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            ctx.journal.record("mount", path=str(data0))
            argv = ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MIB}m", "tmpfs", str(data0)]
            await asyncio.to_thread(subprocess.run, argv, check=True, capture_output=True,
                                    timeout=20)  # fmt: skip
        await c.add_node(spec_args + ["--dev", "--authority-key", str(ctx.key_files[0])],
                         datadir=data0)  # fmt: skip
        for i in range(1, s.nodes):
            dev = ["--dev", "--authority-key", str(ctx.key_files[i])] if i in ctx.producers else []
            datadir = c.root / f"node-{i}"
            if i in faulty:  # the datadir DiskFailure acts on: a FUSE passthrough from the start
                await mount_faulty(ctx, i, datadir)
            await c.add_node(spec_args + dev, datadir=datadir)
        await c.connect_full_mesh()

    async def _all_healthy(self, ctx: ChaosContext, timeout_s: float) -> None:
        mon = SystemHealthMonitor(ctx.cluster)

        async def ok() -> bool:
            return all(x["ok"] for x in await mon.sample())

        await wait_until(ok, timeout_s, "every node healthy (node_health ok)",
                         observe=lambda: mon.samples[-len(ctx.cluster.nodes):], poll_s=0.1)  # fmt: skip

    # -- workload -------------------------------------------------------------------------
    async def _workload(self, ctx: ChaosContext, rec: HistoryRecorder, stop: asyncio.Event) -> None:
        """Block productions on the producers in turn and head queries on a seeded other node,
        recorded as client operations; a refused or failed one counts against availability."""
        rng = random.Random(f"workload:{self.settings.seed}")
        turn = 0
        while not stop.is_set():
            await ctx.production.wait()
            producer = ctx.cluster.nodes[ctx.producers[turn % len(ctx.producers)]]
            turn += 1
            self.ops_total += 1
            try:
                await rec.produce(producer, 1, timeout_s=5)
                self.ops_ok += 1
            except Exception as exc:  # noqa: BLE001 - recorded by the recorder as a failed op
                ctx.produce_errors.append((time.time(), str(exc)))
            q = rng.choice(ctx.others(ctx.producer))
            node = ctx.cluster.nodes[q]
            t = time.time()
            self.ops_total += 1
            try:
                h = await node.call("chain_head", timeout_s=2)
                rec.op(node.name, "query", True, t, height=h["height"])
                self.ops_ok += 1
            except Exception as exc:  # noqa: BLE001
                rec.op(node.name, "query", False, t, error=str(exc)[:160])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.produce_interval_s)

    # -- one event ------------------------------------------------------------------------
    async def _event(self, ctx: ChaosContext, ev: ChaosEvent, t0: float) -> None:
        cls, why = select(ev.type, self.settings.network)
        res = EventResult(ev.to_json(), "unsupported", why or "")
        res.effect = {"mechanism": getattr(cls, "name", "proxy")}
        self.results.append(res)
        if why is not None:
            self.log(f"[chaos] {ev.label()}: unsupported: {why}")
            return
        wait = t0 + ev.start_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # the schedule's start time (not a verdict)
        mech: Mechanism = cls(ctx, ev)
        ops0 = (self.ops_total, self.ops_ok)
        rec = ctx.recorder
        res.started_at = time.time()
        if rec is not None:
            rec.fault("apply", ev.type.value, targets=list(ev.targets), event=ev.id)
        try:
            await mech.start()
            left = t0 + ev.end_s - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)  # the fault window
            effect = await mech.measure()
            res.effect = {"summary": effect.summary, **res.effect, **effect.measured}
            res.status = "passed" if effect.seen else "failed"
            res.detail = effect.summary if effect.seen else f"effect not seen: {effect.summary}"
        except Exception as exc:  # noqa: BLE001 - the event's result says what broke
            res.status, res.detail = "error", f"{type(exc).__name__}: {exc}"
        finally:
            try:
                await mech.stop()
            except Exception as exc:  # noqa: BLE001
                res.status, res.detail = "error", f"lifting the fault: {type(exc).__name__}: {exc}"
            res.ended_at = time.time()
            if rec is not None:
                rec.fault("clear", ev.type.value, targets=list(ev.targets), event=ev.id)
        res.disrupted = (self.ops_total - ops0[0]) > (self.ops_ok - ops0[1])
        rtime = await self._caught_up(ctx, self.settings.recovery_timeout_s, ev)
        if rtime is None:
            if res.status == "passed":
                res.status = "failed"
                res.detail += (f"; not recovered (no progress for "
                               f"{self.settings.recovery_timeout_s:g} s)")  # fmt: skip
            self.liveness += self._stuck(ctx, ev)
        else:
            res.recovery_s = round(rtime, 3)
        self.log(f"[chaos] {ev.label()}: {res.status}: {res.detail} (recovery {res.recovery_s} s)")

    async def _caught_up(
        self, ctx: ChaosContext, stall_s: float, ev: ChaosEvent | None = None
    ) -> float | None:
        """Seconds until every node answers and holds the highest producer's head of now (the
        head at heal time, for an event), or None once no node got closer to it for ``stall_s`` (a
        loaded machine recovers slowly but steadily: progress, not a deadline, is judged; an
        outer bound of ``RECOVERY_BOUND_X * stall_s`` ends a recovery that never completes).
        Re-dials the event's links every ``REDIAL_AFTER_S``."""
        t = time.monotonic()

        async def top() -> int | None:  # the highest producer that answers (one may be down)
            hs = [h for i in ctx.producers if (h := await head(ctx, i)) is not None]
            return max(hs) if hs else None

        goal = await top()
        last_dial = t  # nodes re-dial by themselves; help only a recovery that takes long
        seen: list[tuple[int, ...] | None] = [None]  # the last observation, for S4

        async def observe() -> tuple[int, ...] | None:
            nonlocal last_dial, goal
            if goal is None:
                goal = await top()
                return None
            hs = [await head(ctx, i) for i in range(ctx.n)]
            # best so far per node: only getting closer is progress (a node whose RPC flaps
            # between failing and answering the same stuck head is not progressing)
            prev = seen[0] or (-1,) * ctx.n
            got = tuple(
                max(p, -1 if h is None else min(h, goal)) for p, h in zip(prev, hs, strict=True)
            )
            seen[0] = got
            if min(got) < goal and time.monotonic() - last_dial > REDIAL_AFTER_S:
                last_dial = time.monotonic()  # e.g. a dial refused while banned
                await reconnect(ctx, ev.targets if ev else range(ctx.n))
            return got

        def done(got: tuple[int, ...] | None) -> bool:
            return got is not None and goal is not None and min(got) >= goal

        self._stall = None
        try:
            await wait_for_progress(observe, done,
                                    f"recovery from {ev.label() if ev else 'start'}",
                                    stall_s=stall_s, timeout_s=RECOVERY_BOUND_X * stall_s,
                                    poll_s=0.05)  # fmt: skip
        except Stalled:
            if goal is not None and seen[0] is not None:
                self._stall = (goal, seen[0], stall_s)
            return None
        except WaitTimeout:  # still progressing at the outer bound: slow, not stuck
            return None
        return time.monotonic() - t

    def _stuck(self, ctx: ChaosContext, ev: ChaosEvent) -> list[Violation]:
        """S4 (liveness, docs/CHAIN_RULES.md) from the stalled recovery just observed: a node
        that answers, below the producer's head, whose head did not rise for the whole stall
        window although the fault was lifted and its peers held that head (re-dialled)."""
        if self._stall is None:
            return []
        goal, last, stall_s = self._stall
        out = []
        for i, h in enumerate(last):
            node = ctx.cluster.nodes[i]
            if 0 <= h < goal:
                what = f"head stuck at {h}"
            elif h < 0 and _running(node.pid):  # the process runs, its chain_head fails
                what = "head unreadable (chain_head fails) while its process runs"
            else:
                continue
            out.append(Violation("S4", f"{what} for {stall_s:g} s after {ev.label()} was "
                                 f"lifted while the producer held {goal}", goal, None,
                                 node.name))  # fmt: skip
        return out


def _running(pid: int | None) -> bool:
    try:
        return pid is not None and psutil.Process(pid).status() not in ("zombie", "stopped")
    except psutil.Error:
        return False


class _Recorder(HistoryRecorder):
    """The recorder with JSON-RPC batches split at the node's limit of 100 calls
    (docs/NODE_API.md); its own batches of 200 are refused whole, which stalls its view of
    every node at about height 100. To go once the recorder splits its batches itself.

    Also records a head the node reports over RPC but does not serve the block of (its
    ``chain_head`` names height h, ``chain_getBlockByHeight(h)`` answers nothing): D2 holds
    *any* reported head durable, and the base recorder, which records only heads it can back
    with blocks, never sees such a head, so a node that reports a head before its block is
    committed (and loses it in a crash) would pass unseen. To go once the recorder does this."""

    _unserved: set[tuple[str, int, str]]

    async def _sync_chain(self, node: Any, view: Any, target: int, t: float) -> None:
        await super()._sync_chain(node, view, target, t)
        if view.head[0] >= target:
            return
        with contextlib.suppress(Exception):  # a node moving or gone: the next poll looks again
            block, head_now = await asyncio.gather(
                self._call(node, "chain_getBlockByHeight", [target]),
                self._call(node, "chain_head", []),
            )
            if block is None and int(head_now["height"]) == target:
                key = (node.name, target, str(head_now["hash"]))
                seen = self.__dict__.setdefault("_unserved", set())
                if key not in seen:
                    seen.add(key)
                    self.writer.write("head", node.name, t=t, height=target,
                                      hash=key[2], unserved=True)  # fmt: skip

    async def _batch(
        self,
        node: Any,
        calls: Sequence[tuple[str, list[Any]]],
        timeout_s: float | None = None,
        strict: bool = False,
    ) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(calls), RPC_BATCH_LIMIT):
            out += await super()._batch(node, calls[i : i + RPC_BATCH_LIMIT], timeout_s, strict)
        return out


async def _init_spec(target: NodeTarget, out: Path, seed: int, authorities: int = 1) -> Path:
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    argv = target.argv("init-spec", "--authorities", str(authorities), "--out", str(out),
                       "--checkpoint-interval", "20", "--seed", f"chaos-{seed}")  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.PIPE)  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    if proc.returncode != 0:
        raise RuntimeError(f"init-spec failed: {err.decode(errors='replace')[-200:]}")
    return out


__all__ = ["ChaosRun", "ChaosSettings"]


def settings_from_config(
    cfg: Any,
    duration_s: float | None = None,
    events: Sequence[str] | None = None,
    nodes: int | None = None,
    producers: int | None = None,
    network: str | None = None,
) -> ChaosSettings:
    """The chaos section of a ``TestConfig`` (plus CLI overrides) as run settings; an unknown
    event name raises ValueError naming the allowed ones."""
    ch = cfg.chaos
    names = list(events) if events else list(ch.allowed_types)
    allowed = tuple(ChaosEventType.parse(n) for n in names) if names else tuple(ChaosEventType)
    out = ChaosSettings(
        seed=cfg.seed,
        duration_s=duration_s if duration_s is not None else ch.duration_minutes * 60,
        event_frequency=ch.events_per_minute,
        max_concurrent_events=ch.max_concurrent_events,
        allowed=allowed,
        nodes=nodes if nodes is not None else ch.nodes,
        recovery_timeout_s=ch.recovery_timeout_s,
        node_command=list(cfg.network.node_command),
    )
    if producers is not None:
        out.producers = producers
    if network is not None:
        select(ChaosEventType.NETWORK_PARTITION, network)  # an unknown mode: ValueError
        out.network = network
    return out
