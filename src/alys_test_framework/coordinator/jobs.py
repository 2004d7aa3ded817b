"""The coordinator's queue, kept in the run-history database (table coordinator_jobs).

Rules:
- a job moves queued -> running -> one of passed / failed / error / cancelled / interrupted,
  or back to queued for a retry; nothing else;
- the state is in SQLite, so a restarted coordinator finds its queue again: queued jobs stay
  queued, jobs that were running when it stopped are marked interrupted (their partial reports
  are kept);
- the exit code of `alys-test run` decides the end state: 0 passed, 1 failed, 2 error (bad
  input), 130/143 cancelled when a cancel was asked for and interrupted otherwise; anything else
  is a crash, retried up to the configured number of attempts.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..reporting.history import HistoryStore

QUEUED, RUNNING = "queued", "running"
PASSED, FAILED, ERROR, CANCELLED, INTERRUPTED = (
    "passed",
    "failed",
    "error",
    "cancelled",
    "interrupted",
)
FINISHED = (PASSED, FAILED, ERROR, CANCELLED, INTERRUPTED)

EXIT_STATES = {0: PASSED, 1: FAILED, 2: ERROR}
SIGNAL_EXITS = (130, 143, -2, -15)


def end_state(exit_code: int, cancel_requested: bool) -> str | None:
    """The state a finished run ends in; None = a crash worth a retry."""
    if cancel_requested:
        return CANCELLED
    if exit_code in EXIT_STATES:
        return EXIT_STATES[exit_code]
    if exit_code in SIGNAL_EXITS:
        return INTERRUPTED
    return None


@dataclass
class Job:
    id: str
    state: str
    request: dict[str, Any]
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    run_id: str | None = None
    report_dir: str | None = None
    exit_code: int | None = None
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["duration_s"] = (
            (self.finished_at or time.time()) - self.started_at if self.started_at else None
        )
        return d


class JobStore:
    def __init__(self, history: HistoryStore) -> None:
        self.db = history.db

    def _row(self, row: Any) -> Job:
        d = dict(row)
        d["request"] = json.loads(d["request"])
        return Job(**d)

    def create(self, request: dict[str, Any]) -> Job:
        job = Job(
            id=f"job-{int(time.time())}-{secrets.token_hex(4)}",
            state=QUEUED,
            request=request,
            created_at=time.time(),
        )
        self.db.execute(
            "INSERT INTO coordinator_jobs (id, state, request, created_at) VALUES (?,?,?,?)",
            (job.id, job.state, json.dumps(request), job.created_at),
        )
        return job

    def get(self, job_id: str) -> Job | None:
        row = self.db.execute("SELECT * FROM coordinator_jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def recent(self, limit: int = 100, state: str | None = None) -> list[Job]:
        sql = "SELECT * FROM coordinator_jobs"
        args: list[Any] = []
        if state:
            sql += " WHERE state = ?"
            args.append(state)
        sql += " ORDER BY created_at DESC LIMIT ?"
        args.append(limit)
        return [self._row(r) for r in self.db.execute(sql, args)]

    def update(self, job_id: str, **fields: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(
            f"UPDATE coordinator_jobs SET {sets} WHERE id = ?", (*fields.values(), job_id)
        )

    def next_queued(self) -> Job | None:
        row = self.db.execute(
            "SELECT * FROM coordinator_jobs WHERE state = ? ORDER BY created_at LIMIT 1", (QUEUED,)
        ).fetchone()
        return self._row(row) if row else None

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM coordinator_jobs GROUP BY state")
        return {state: n for state, n in rows}

    def finished_durations(self) -> list[tuple[str, float]]:
        rows = self.db.execute(
            "SELECT state, finished_at - started_at FROM coordinator_jobs "
            "WHERE finished_at IS NOT NULL AND started_at IS NOT NULL"
        )
        return [(s, float(d)) for s, d in rows]

    def recover(self) -> int:
        """After a restart: jobs that were running are interrupted; returns how many."""
        cur = self.db.execute(
            "UPDATE coordinator_jobs SET state = ?, finished_at = ?, "
            "error = 'the coordinator stopped while this run was running' WHERE state = ?",
            (INTERRUPTED, time.time(), RUNNING),
        )
        return cur.rowcount

    def expired(self, older_than_s: float) -> list[Job]:
        cutoff = time.time() - older_than_s
        rows = self.db.execute(
            "SELECT * FROM coordinator_jobs WHERE finished_at IS NOT NULL AND finished_at < ?",
            (cutoff,),
        )
        return [self._row(r) for r in rows]

    def delete(self, job_id: str) -> None:
        self.db.execute("DELETE FROM coordinator_jobs WHERE id = ?", (job_id,))
