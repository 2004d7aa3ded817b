"""MigrationTestFramework: runs the phases in order, gated by validators.

The framework owns one asyncio event loop and a worker pool; harnesses run on that loop. It
writes events as they happen and reports after every phase, so an interrupted or crashed run
still leaves evidence behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from .config import TestConfig
from .events import EventLog, TestEvent
from .harness.base import HarnessContext, TestHarness
from .harness.registry import HarnessRegistry
from .metrics import ExecutionMetrics, PerformanceMetrics, PhaseMetrics, ResourceSampler
from .phases import PHASE_ORDER, MigrationPhase
from .results import TestResult, TestStatus
from .validators import ValidatorVerdict, validate_phase


class PhaseStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not_implemented"
    SKIPPED = "skipped"  # not run because an earlier phase failed
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self is PhaseStatus.PASSED


@dataclass
class PhaseResult:
    phase: MigrationPhase
    status: PhaseStatus
    results: list[TestResult] = field(default_factory=list)
    verdicts: list[ValidatorVerdict] = field(default_factory=list)
    harnesses: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    message: str = ""
    harness_metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status.ok

    @property
    def metrics(self) -> PhaseMetrics:
        return PhaseMetrics.from_results(self.results, self.duration_s)


@dataclass
class RunResult:
    run_id: str
    seed: int
    config: TestConfig
    phases: list[PhaseResult]
    started_at: float
    finished_at: float
    interrupted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.interrupted and bool(self.phases) and all(p.passed for p in self.phases)

    @property
    def results(self) -> list[TestResult]:
        return [r for p in self.phases for r in p.results]

    def summary(self) -> dict[str, Any]:
        return summarize(
            self.run_id,
            {p.phase.value: p.status.value for p in self.phases},
            [r.status.value for r in self.results],
            self.interrupted,
        )


def summarize(
    run_id: str, phase_statuses: dict[str, str], test_statuses: Iterable[str], interrupted: bool
) -> dict[str, Any]:
    """The run summary; computed the same way from a RunResult and from an event log."""
    counts = {s.value: 0 for s in TestStatus}
    total = 0
    for status in test_statuses:
        counts[status] = counts.get(status, 0) + 1
        total += 1
    if interrupted:
        status = "interrupted"
    elif phase_statuses and all(s == PhaseStatus.PASSED.value for s in phase_statuses.values()):
        status = "passed"
    else:
        status = "failed"
    return {
        "run_id": run_id,
        "status": status,
        "phases": dict(phase_statuses),
        "tests": {"total": total, **counts},
    }


def new_run_id(seed: int) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-s{seed}-{os.getpid()}"


class MigrationTestFramework:
    """Runs migration phases against their harnesses and gates each on its validators."""

    def __init__(
        self,
        config: TestConfig | None = None,
        *,
        report_dir: Path | None = None,
        registry: HarnessRegistry | None = None,
        run_id: str | None = None,
        progress: Callable[[TestEvent], None] | None = None,
    ) -> None:
        self.config = config or TestConfig()
        self.run_id = run_id or new_run_id(self.config.seed)
        self.report_dir = report_dir
        if registry is None:
            registry = HarnessRegistry()
            registry.load_plugins(self.config.plugins)
        self.registry = registry
        self.events = EventLog(report_dir / "events.jsonl" if report_dir else None)
        if progress is not None:
            self.events.add_listener(progress)
        self._loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(
            max_workers=self.config.workers, thread_name_prefix="alys-worker"
        )
        self._loop.set_default_executor(self._executor)
        self._sampler = ResourceSampler(self.config.performance.sample_interval_s)
        self._phase_results: list[PhaseResult] = []
        self._started = time.time()
        self._closed = False
        self._active: list[TestHarness] = []

    # -- public API ----------------------------------------------------------------------
    def run_phase_validation(self, phase: MigrationPhase) -> PhaseResult:
        """Run one phase's harnesses and validators (no gating by earlier phases)."""
        return self._loop.run_until_complete(self._run_phase(phase))

    def run(self, phases: Iterable[MigrationPhase] | None = None) -> RunResult:
        """Run phases in order; stop at the first failed one unless continue_on_failure."""
        selected = sorted(set(phases) if phases else PHASE_ORDER, key=PHASE_ORDER.index)
        self._started = time.time()
        self.events.emit(
            "run_started",
            "framework",
            run_id=self.run_id,
            seed=self.config.seed,
            phases=[p.value for p in selected],
        )
        self._sampler.start()
        task = self._loop.create_task(self._run_phases(selected))
        interrupted = False
        installed = self._install_sigint(task)
        try:
            self._loop.run_until_complete(task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            interrupted = True
            self._loop.run_until_complete(self._shutdown_active())
        finally:
            if installed:
                self._loop.remove_signal_handler(signal.SIGINT)
        self._sampler.stop()
        result = self._result(interrupted)
        if interrupted:
            self.events.emit("run_interrupted", "framework", run_id=self.run_id)
        self.events.emit("run_finished", "framework", run_id=self.run_id, summary=result.summary())
        self._write_reports(result)
        return result

    def collect_metrics(self) -> dict[str, Any]:
        results = [r for p in self._phase_results for r in p.results]
        wall = time.time() - self._started
        return {
            "resources": self._sampler.metrics.to_dict(),
            "execution": ExecutionMetrics.compute(wall, results, self.config.workers).to_dict(),
            "performance": PerformanceMetrics.from_results(results).to_dict(),
            "phases": {p.phase.value: p.metrics.to_dict() for p in self._phase_results},
        }

    def shutdown(self) -> None:
        """Release the loop, the pool and the event log; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._shutdown_active())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.events.close()

    def __enter__(self) -> MigrationTestFramework:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- internals -----------------------------------------------------------------------
    def _install_sigint(self, task: asyncio.Task[Any]) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            self._loop.add_signal_handler(signal.SIGINT, task.cancel)
        except (NotImplementedError, RuntimeError):
            return False
        return True

    async def _run_phases(self, phases: list[MigrationPhase]) -> None:
        failed = False
        for phase in phases:
            if failed and not self.config.continue_on_failure:
                result = PhaseResult(
                    phase, PhaseStatus.SKIPPED, message="not run: an earlier phase failed"
                )
                self._phase_results.append(result)
                self._emit_phase_finished(result)
                continue
            result = await self._run_phase(phase)
            failed = failed or not result.passed

    def _emit_phase_finished(self, result: PhaseResult) -> None:
        """The event replay reads phase verdicts from; one shape for run and skipped phases."""
        self.events.emit(
            "phase_finished",
            "framework",
            phase=result.phase.value,
            status=result.status.value,
            message=result.message,
            duration_s=result.duration_s,
            verdicts=[v.to_dict() for v in result.verdicts],
        )

    async def _run_phase(self, phase: MigrationPhase) -> PhaseResult:
        start = time.perf_counter()
        self.events.emit("phase_started", "framework", phase=phase.value)
        result = PhaseResult(phase, PhaseStatus.INTERRUPTED)
        self._phase_results.append(result)
        try:
            await self._fill_phase(phase, result)
        finally:
            result.duration_s = time.perf_counter() - start
            if result.status is PhaseStatus.INTERRUPTED:
                result.results = [r for h in self._active for r in getattr(h, "results", [])]
                result.message = "interrupted"
                self._active = []
            self._emit_phase_finished(result)
            if self.report_dir is not None:
                self._write_reports(self._result(result.status is PhaseStatus.INTERRUPTED))
        return result

    async def _fill_phase(self, phase: MigrationPhase, result: PhaseResult) -> None:
        factories = self.registry.factories(phase)
        if not factories:
            result.status = PhaseStatus.NOT_IMPLEMENTED
            result.message = (
                f"phase {phase.value} is not implemented: no harness is registered for it"
            )
            return
        ctx = HarnessContext(
            config=self.config,
            events=self.events,
            workdir=self._workdir(phase),
            executor=self._executor,
        )
        harnesses = [factory(ctx) for factory in factories]
        result.harnesses = [h.name for h in harnesses]
        self._active = list(harnesses)
        if self.config.parallel_tests and len(harnesses) > 1:
            per = await asyncio.gather(*(self._run_harness(h) for h in harnesses))
        else:
            per = [await self._run_harness(h) for h in harnesses]
        self._active = []
        result.results = [r for rs in per for r in rs]
        result.harness_metrics = {h.name: _safe_metrics(h) for h in harnesses}
        required = {c for h in harnesses for c in getattr(type(h), "categories", ())}
        result.verdicts = validate_phase(phase, result.results, required, self.config)
        failed = [v for v in result.verdicts if v.failed]
        result.status = PhaseStatus.FAILED if failed else PhaseStatus.PASSED
        result.message = "; ".join(f"{v.validator}: {v.message}" for v in failed)
        for v in result.verdicts:
            self.events.emit(
                "validator_verdict",
                v.validator,
                phase=phase.value,
                status=v.status.value,
                message=v.message,
            )

    async def _run_harness(self, harness: TestHarness) -> list[TestResult]:
        name = harness.name
        self.events.emit("harness_started", name)
        try:
            try:
                healthy = await harness.health_check()
                error = "" if healthy else "health check reported the target unhealthy"
            except Exception as exc:
                healthy, error = False, f"health check raised {type(exc).__name__}: {exc}"
            if not healthy:
                return [self._harness_error(name, "health_check", error)]
            try:
                await harness.initialize()
            except Exception as exc:
                return [self._harness_error(name, "initialize", f"{type(exc).__name__}: {exc}")]
            try:
                return await harness.run_all_tests()
            except Exception as exc:
                done = list(getattr(harness, "results", []))
                return done + [
                    self._harness_error(name, "run_all_tests", f"{type(exc).__name__}: {exc}")
                ]
        finally:
            try:
                await harness.shutdown()
            except Exception as exc:
                self.events.emit(
                    "harness_shutdown_failed", name, error=f"{type(exc).__name__}: {exc}"
                )
            self.events.emit("harness_finished", name)

    def _harness_error(self, harness: str, step: str, message: str) -> TestResult:
        result = TestResult(step, harness, "harness", TestStatus.ERROR, 0.0, message)
        self.events.emit(
            "test_finished",
            harness,
            test=step,
            category="harness",
            status="error",
            duration_s=0.0,
            message=message,
        )
        return result

    async def _shutdown_active(self) -> None:
        active, self._active = self._active, []
        for harness in active:
            try:
                await harness.shutdown()
            except Exception as exc:
                self.events.emit("harness_shutdown_failed", harness.name, error=str(exc))

    def _workdir(self, phase: MigrationPhase) -> Path:
        base = (
            self.report_dir
            if self.report_dir is not None
            else Path(os.environ.get("TMPDIR", "/tmp")) / f"alys-test-{self.run_id}"
        )
        path = base / "work" / phase.value
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _result(self, interrupted: bool) -> RunResult:
        return RunResult(
            run_id=self.run_id,
            seed=self.config.seed,
            config=self.config,
            phases=list(self._phase_results),
            started_at=self._started,
            finished_at=time.time(),
            interrupted=interrupted,
            metrics=self.collect_metrics(),
        )

    def _write_reports(self, result: RunResult) -> None:
        if self.report_dir is None:
            return
        from .reporting import write_reports

        write_reports(result, self.report_dir)


def _safe_metrics(harness: TestHarness) -> dict[str, Any]:
    try:
        return dict(harness.get_metrics())
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
