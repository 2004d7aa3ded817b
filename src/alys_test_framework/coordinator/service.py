"""The scheduler: runs queued jobs, at most max_parallel at a time, with retries and retention.

Rules:
- jobs start in the order they were queued; a slot frees when a run's process has exited;
- a verdict is never retried (exit 1 is a failed run, not a flaky coordinator); only a crash
  (an exit code `alys-test run` does not document) is retried, up to ``retries`` times;
- a cancel of a queued job removes it from the queue; of a running job, sends SIGTERM and waits
  for the partial reports; either way the job ends ``cancelled``;
- finished jobs older than ``retention_days`` are deleted with their report directories.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..reporting.history import HistoryStore
from .jobs import CANCELLED, FINISHED, QUEUED, RUNNING, Job, JobStore, end_state
from .requests import RunRequest, effective_config, parse_request
from .runner import RunProcess


@dataclass
class SchedulerSettings:
    data_dir: Path
    history_db: Path
    base_config: Path | None = None
    max_parallel: int = 1
    retries: int = 1
    retention_days: float = 14.0


class Scheduler:
    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.history = HistoryStore(settings.history_db)
        self.jobs = JobStore(self.history)
        self.running: dict[str, RunProcess] = {}
        self._finished: dict[str, asyncio.Event] = {}
        self._cancel_requested: set[str] = set()
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self.recovered = self.jobs.recover()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.history.record_health(
            "coordinator", "started", f"{self.recovered} run(s) interrupted by a restart"
        )
        self.apply_retention()
        self._loop_task = asyncio.create_task(self._schedule(), name="coordinator-scheduler")

    async def stop(self) -> None:
        """Cancel every running job (partial reports kept) and stop scheduling."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
        for job_id in list(self.running):
            await self.cancel(job_id)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.history.record_health("coordinator", "stopped")
        self.history.close()

    # -- API -----------------------------------------------------------------------------
    def submit(self, body: Any) -> Job:
        request = parse_request(body)
        # validated now, so a bad override is a 400 for the client, not a failed job later
        effective_config(request, self.settings.base_config, self.settings.history_db)
        job = self.jobs.create(request.to_dict())
        self._wakeup.set()
        return job

    async def cancel(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None or job.state in FINISHED:
            return job
        self._cancel_requested.add(job_id)
        if job.state == QUEUED:
            self.jobs.update(job_id, state=CANCELLED, finished_at=time.time())
        elif job_id in self.running:
            finished = self._finished[job_id]
            await self.running[job_id].cancel()
            await finished.wait()  # the job's own task records the end state
        return self.jobs.get(job_id)

    def report_summary(self, job: Job) -> dict[str, Any] | None:
        if not job.report_dir:
            return None
        path = Path(job.report_dir) / "report.json"
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return {"status": report.get("status"), "summary": report.get("summary")}

    # -- scheduling ----------------------------------------------------------------------
    async def _schedule(self) -> None:
        while True:
            while len(self.running) < self.settings.max_parallel:
                job = self.jobs.next_queued()
                if job is None:
                    break
                self._launch(job)
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=60)
            except TimeoutError:
                self.apply_retention()

    def _launch(self, job: Job) -> None:
        request = RunRequest(
            phases=tuple(),  # phases travel as names; parsed again when the job runs
            preset=job.request["preset"],
            seed=job.request.get("seed"),
            overrides=job.request.get("config", {}),
        )
        job_dir = self.settings.data_dir / "runs" / job.id
        proc = RunProcess(
            job_dir,
            effective_config(request, self.settings.base_config, self.settings.history_db),
            list(job.request.get("phases", [])),
        )
        self.running[job.id] = proc
        self._finished[job.id] = asyncio.Event()
        self.jobs.update(
            job.id,
            state=RUNNING,
            started_at=time.time(),
            attempts=job.attempts + 1,
            report_dir=str(proc.report_dir),
        )
        task = asyncio.create_task(self._run(job, proc), name=f"run-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: Job, proc: RunProcess) -> None:
        try:
            await proc.start()
            rc = await proc.wait()
        except Exception as exc:  # could not even start the run
            rc, error = -1, f"{type(exc).__name__}: {exc}"
        else:
            error = ""
        finally:
            self.running.pop(job.id, None)
        state = end_state(rc, job.id in self._cancel_requested)
        self._cancel_requested.discard(job.id)
        run_id = self._run_id(proc.report_dir)
        if state is None and job.attempts + 1 <= self.settings.retries:
            self.jobs.update(
                job.id, state=QUEUED, exit_code=rc, error=error or f"exit code {rc}; retrying"
            )
        else:
            self.jobs.update(
                job.id,
                state=state or "error",
                exit_code=rc,
                finished_at=time.time(),
                run_id=run_id,
                error=error if state else (error or f"run crashed with exit code {rc}"),
            )
        self._finished.pop(job.id).set()
        self._wakeup.set()

    @staticmethod
    def _run_id(report_dir: Path) -> str | None:
        try:
            return str(json.loads((report_dir / "report.json").read_text())["run_id"])
        except (OSError, ValueError, KeyError):
            return None

    def apply_retention(self) -> int:
        removed = 0
        for job in self.jobs.expired(self.settings.retention_days * 86400):
            shutil.rmtree(self.settings.data_dir / "runs" / job.id, ignore_errors=True)
            self.jobs.delete(job.id)
            removed += 1
        return removed
