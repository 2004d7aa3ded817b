"""The queue's rules: end states from exit codes, crash retries, retention, restart recovery."""

from __future__ import annotations

import asyncio
import time

import pytest

from alys_test_framework.coordinator.jobs import (
    CANCELLED,
    ERROR,
    FAILED,
    INTERRUPTED,
    PASSED,
    RUNNING,
    JobStore,
    end_state,
)
from alys_test_framework.coordinator.service import Scheduler, SchedulerSettings
from alys_test_framework.reporting.history import HistoryStore

from .conftest import start_coordinator, stop_coordinator


@pytest.mark.parametrize(
    ("rc", "cancel", "state"),
    [
        (0, False, PASSED),
        (1, False, FAILED),
        (2, False, ERROR),
        (143, False, INTERRUPTED),
        (130, False, INTERRUPTED),
        (143, True, CANCELLED),
        (0, True, CANCELLED),
        (3, False, None),
        (-9, False, None),
    ],
)
def test_end_state(rc, cancel, state):
    assert end_state(rc, cancel) == state


def test_retention_deletes_old_runs_and_their_files(tmp_path):
    s = Scheduler(
        SchedulerSettings(data_dir=tmp_path, history_db=tmp_path / "h.sqlite", retention_days=1)
    )
    old, new = s.jobs.create({"phases": []}), s.jobs.create({"phases": []})
    s.jobs.update(old.id, state=PASSED, finished_at=time.time() - 2 * 86400)
    s.jobs.update(new.id, state=PASSED, finished_at=time.time())
    (tmp_path / "runs" / old.id).mkdir(parents=True)
    assert s.apply_retention() == 1
    assert s.jobs.get(old.id) is None and s.jobs.get(new.id) is not None
    assert not (tmp_path / "runs" / old.id).exists()
    s.history.close()


def test_a_restart_marks_running_jobs_interrupted(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        jobs = JobStore(store)
        job = jobs.create({"phases": []})
        jobs.update(job.id, state=RUNNING, started_at=time.time())
    s = Scheduler(SchedulerSettings(data_dir=tmp_path, history_db=tmp_path / "h.sqlite"))
    assert s.recovered == 1
    assert s.jobs.get(job.id).state == INTERRUPTED
    asyncio.run(_start_stop(s))
    rows = HistoryStore(tmp_path / "h.sqlite").db.execute(
        "SELECT service, status, detail FROM service_health"
    )
    assert [tuple(r) for r in rows] == [
        ("coordinator", "started", "1 run(s) interrupted by a restart"),
        ("coordinator", "stopped", ""),
    ]


async def _start_stop(s: Scheduler) -> None:
    await s.start()
    await s.stop()


def test_a_crashed_run_is_retried_then_reported(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('plugins = ["tests.foundation.foundation_fakes:register_crashing"]\n')
    c = start_coordinator(tmp_path, "--config", str(base), "--retries", "1")
    try:
        status, job, _ = c.request(
            "POST", "/test-runs", {"phases": ["actor-core"], "preset": "development"}
        )
        assert status == 202
        done = c.wait_finished(job["id"])
        assert done["state"] == ERROR and done["attempts"] == 2, done
        assert done["exit_code"] == 3 and "crashed with exit code 3" in done["error"]
    finally:
        stop_coordinator(c)


def test_stopping_the_coordinator_stops_its_runs(tmp_path):
    """SIGTERM to `alys-test serve` mid-run: the run is cancelled, its reports kept, no process
    of it left behind."""
    import json

    from alys_test_framework.waiting import wait_until_blocking

    from .test_coordinator_api import _run_processes

    base = tmp_path / "base.toml"
    base.write_text('plugins = ["tests.foundation.foundation_fakes:register_slow"]\n')
    c = start_coordinator(tmp_path, "--config", str(base))
    try:
        _, job, _ = c.request(
            "POST", "/test-runs", {"phases": ["actor-core"], "preset": "development"}
        )
        events = c.data_dir / "runs" / job["id"] / "report" / "events.jsonl"
        wait_until_blocking(
            lambda: events.exists() and "test_slow" in events.read_text(),
            120,
            "the slow test started",
        )
    finally:
        stop_coordinator(c)
    assert c.proc.returncode == 0
    assert _run_processes(str(c.data_dir / "runs" / job["id"])) == []
    report = json.loads((c.data_dir / "runs" / job["id"] / "report" / "report.json").read_text())
    assert report["status"] == "interrupted" and report["signal"] == "SIGTERM"
    with HistoryStore(c.data_dir / "history.sqlite") as store:
        assert JobStore(store).get(job["id"]).state == CANCELLED
