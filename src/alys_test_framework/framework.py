"""MigrationTestFramework: runs the phases in order, gated by validators.

The framework owns one asyncio event loop and a worker pool; harnesses run on that loop. It
writes events as they happen and reports after every phase, so an interrupted or crashed run
still leaves evidence behind.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .config import TestConfig
from .events import EventLog, TestEvent
from .harness.base import HarnessContext, TestHarness
from .harness.registry import HarnessRegistry, load_registry
from .metrics import ExecutionMetrics, PerformanceMetrics, ResourceSampler
from .phases import PHASE_ORDER, MigrationPhase
from .properties import REPLAY
from .reporting import finish_reports, write_reports
from .reporting.coverage import CoverageRun, coverage_gate
from .results import (
    PhaseResult,
    PhaseStatus,
    RunResult,
    TestResult,
    TestStatus,
    ValidatorVerdict,
    Verdict,
    new_run_id,
    summarize,
)
from .validators import validate_phase

# signals that end a run the way Ctrl-C does: partial reports, then exit 128 + signal number
# (SIGTERM is what CI runners and process supervisors send on cancel)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

__all__ = [
    "STOP_SIGNALS",
    "MigrationTestFramework",
    "PhaseResult",
    "PhaseStatus",
    "RunResult",
    "new_run_id",
    "summarize",
]


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
        only: Iterable[str] | None = None,
        reproduce: str | None = None,
        include_pytest: Iterable[Path] = (),
    ) -> None:
        self.config = config or TestConfig()
        # --only: harness tests run by name; --reproduce: one property case replayed;
        # --include-pytest: pytest paths run as a harness of the last selected phase
        self.only = set(only) if only else None
        self.reproduce = reproduce
        self.include_pytest = list(include_pytest)
        self._last_phase: MigrationPhase | None = None
        self.run_id = run_id or new_run_id(self.config.seed)
        self.report_dir = report_dir
        self.registry = registry if registry is not None else load_registry(self.config)
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
        self._target_setup_s = 0.0
        self._started = time.time()
        self._closed = False
        self._active: list[TestHarness] = []
        self._signal: str = ""
        self._gates: list[ValidatorVerdict] = []
        self._coverage: dict[str, Any] | None = None

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
        coverage = self._start_coverage()
        self._last_phase = selected[-1] if selected else None
        task = self._loop.create_task(self._run_phases(selected), context=self._run_context())
        interrupted = False
        installed = self._install_signal_handlers(task)
        try:
            self._loop.run_until_complete(task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            interrupted = True
            self._signal = self._signal or "SIGINT"
            self._loop.run_until_complete(self._shutdown_active())
        finally:
            for sig in installed:
                self._loop.remove_signal_handler(sig)
        self._sampler.stop()
        if coverage is not None:
            self._finish_coverage(coverage)
        result = self._result(interrupted)
        if interrupted:
            self.events.emit(
                "run_interrupted", "framework", run_id=self.run_id, signal=self._signal
            )
        self.events.emit("run_finished", "framework", run_id=self.run_id, summary=result.summary())
        self._write_reports(result)
        self._finish_reports()
        return result

    def collect_metrics(self) -> dict[str, Any]:
        results = [r for p in self._phase_results for r in p.results]
        wall = time.time() - self._started
        return {
            "resources": self._sampler.metrics.to_dict(),
            "execution": ExecutionMetrics.compute(
                wall, results, self.config.workers, self._target_setup_s
            ).to_dict(),
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
    def _start_coverage(self) -> CoverageRun | None:
        if not self.config.coverage_enabled or self.report_dir is None:
            return None
        rep = self.config.reporting
        run = CoverageRun(self.report_dir, list(rep.coverage_source), rep.coverage_threshold_pct)
        run.start()
        return run

    def _finish_coverage(self, run: CoverageRun) -> None:
        self._coverage = run.finish()
        gate = coverage_gate(self._coverage)
        self._gates.append(gate)
        self.events.emit(
            "run_gate",
            gate.validator,
            validator=gate.validator,
            status=gate.status.value,
            message=gate.message,
        )

    def _install_signal_handlers(self, task: asyncio.Task[Any]) -> list[signal.Signals]:
        """SIGINT and SIGTERM cancel the run; returns the signals whose handler was installed."""
        if threading.current_thread() is not threading.main_thread():
            return []

        def stop(sig: signal.Signals) -> None:
            self._signal = self._signal or sig.name
            task.cancel()

        installed = []
        for sig in STOP_SIGNALS:
            try:
                self._loop.add_signal_handler(sig, stop, sig)
            except (NotImplementedError, RuntimeError):
                continue
            installed.append(sig)
        return installed

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
                result.results = [r for h in self._active for r in h.results]
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
        built = [factory(ctx) for factory in factories] + self._pytest_harnesses(phase, ctx)
        harnesses = [h for h in built if isinstance(h, TestHarness)]
        broken = [
            self._harness_error(
                type(h).__name__,
                "contract",
                f"{type(h).__name__} is not a TestHarness: it needs name, categories, results, "
                "health_check, initialize, run_all_tests, shutdown and get_metrics",
            )
            for h in built
            if not isinstance(h, TestHarness)
        ]
        result.harnesses = [h.name for h in harnesses]
        self._active = list(harnesses)
        if self.config.parallel_tests and len(harnesses) > 1:
            per = await asyncio.gather(*(self._run_harness(h) for h in harnesses))
        else:
            per = []
            for h in harnesses:
                if self.config.fail_fast and any(
                    r.status is TestStatus.FAILED for rs in per for r in rs
                ):  # --fail-fast: the phase already failed; its other harnesses are not run
                    per.append([self._harness_skipped(h.name, "not run: --fail-fast")])
                    continue
                per.append(await self._run_harness(h))
        self._active = []
        result.results = broken + [r for rs in per for r in rs]
        result.harness_metrics = {h.name: _safe_metrics(h) for h in harnesses}
        required = {c for h in harnesses for c in self._selected_categories(h)}
        result.verdicts = validate_phase(phase, result.results, required, self.config)
        if self.only is not None:
            result.verdicts = self._selection_verdicts(phase, result)
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
        t_setup = time.perf_counter()
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
            finally:
                # target set-up (a template chain, an endpoint, processes) is the target's
                # cost, not the framework's: counted apart from framework overhead
                self._target_setup_s += time.perf_counter() - t_setup
            try:
                return await self._run_selected(harness)
            except Exception as exc:
                done = list(harness.results)
                return done + [
                    self._harness_error(name, "run_all_tests", f"{type(exc).__name__}: {exc}")
                ]
        finally:
            t_down = time.perf_counter()
            try:
                await harness.shutdown()
            except Exception as exc:
                self.events.emit(
                    "harness_shutdown_failed", name, error=f"{type(exc).__name__}: {exc}"
                )
            self._target_setup_s += time.perf_counter() - t_down
            self.events.emit("harness_finished", name)

    # -- selection (--only), replay (--reproduce) and pytest paths (--include-pytest) --------
    def _run_context(self) -> contextvars.Context:
        """The run's context: with --reproduce, every property replays that token's case."""
        ctx = contextvars.copy_context()
        if self.reproduce is not None:
            ctx.run(REPLAY.set, self.reproduce)
        return ctx

    def _selected(self, harness: TestHarness) -> list[tuple[str, str]] | None:
        """(name, category) of the --only tests this harness has; None without --only."""
        if self.only is None or not hasattr(harness, "test_methods"):
            return None
        return [(n, c) for n, c, _ in harness.test_methods() if n in self.only]

    def _selected_categories(self, harness: TestHarness) -> set[str]:
        picked = self._selected(harness)
        return set(harness.categories) if picked is None else {c for _, c in picked}

    async def _run_selected(self, harness: TestHarness) -> list[TestResult]:
        picked = self._selected(harness)
        if picked is None:
            return await harness.run_all_tests()
        return list(await harness.run_tests(only=[n for n, _ in picked]))  # type: ignore[attr-defined]

    def _selection_verdicts(
        self, phase: MigrationPhase, result: PhaseResult
    ) -> list[ValidatorVerdict]:
        """Under --only the phase is judged on the selected tests alone: zero failures (a
        selection cannot show every required category, so that gate does not apply)."""
        name = f"{phase.camel}PhaseValidator"
        bad = [r for r in result.results if not r.passed and r.status is not TestStatus.SKIPPED]
        if not result.results:
            why = f"none of --only {', '.join(sorted(self.only or ()))} is in this phase"
            verdict = ValidatorVerdict(name, Verdict.FAILED, why)
        elif bad:
            names = ", ".join(f"{r.name} ({r.status.value})" for r in bad)
            verdict = ValidatorVerdict(name, Verdict.FAILED, f"selected tests failing: {names}")
        else:
            ok = f"{len(result.results)} selected test(s) passed"
            verdict = ValidatorVerdict(name, Verdict.PASSED, ok)
        return [verdict, *(v for v in result.verdicts if v.validator != name)]

    def _pytest_harnesses(self, phase: MigrationPhase, ctx: HarnessContext) -> list[Any]:
        if not self.include_pytest or phase is not self._last_phase:
            return []
        from .pytest_plugin import PytestHarness

        return [PytestHarness(ctx, self.include_pytest)]

    def _harness_skipped(self, harness: str, message: str) -> TestResult:
        result = TestResult("run_all_tests", harness, "harness", TestStatus.SKIPPED, 0.0, message)
        self.events.emit("test_finished", harness, test="run_all_tests", category="harness",
                         status="skipped", duration_s=0.0, message=message)  # fmt: skip
        return result

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
            signal=self._signal if interrupted else "",
            gates=list(self._gates),
            coverage=self._coverage,
        )

    def _write_reports(self, result: RunResult) -> None:
        if self.report_dir is None:
            return
        write_reports(result, self.report_dir, html=self.config.reporting.html)

    def _finish_reports(self) -> None:
        """History and the trend-aware report.html; a broken history never fails the run."""
        if self.report_dir is None:
            return
        try:
            finish_reports(self.report_dir, self.config)
        except Exception as exc:
            self.events.emit("history_failed", "framework", error=f"{type(exc).__name__}: {exc}")


def _safe_metrics(harness: TestHarness) -> dict[str, Any]:
    try:
        return dict(harness.get_metrics())
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
