"""Run history in SQLite: every reported run, its tests, benchmarks, coverage and artifacts.

Rules:
- the database is written only from report.json values (``record``), so a history can be
  rebuilt from report directories alone;
- the schema is versioned: ``MIGRATIONS[i]`` takes the database from version i to i + 1
  (``PRAGMA user_version``); a database newer than this code is refused, never altered;
- tables follow the original coordinator's schema (test_runs, test_results, coverage_data,
  file_coverage, benchmarks, performance_regressions, chaos_tests, service_health,
  test_artifacts), plus the coordinator's queue (coordinator_jobs);
- several processes may write at once (WAL, a busy timeout): the CLI and the coordinator share
  one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..results import TestResult
from ..validators import performance_metrics
from .flaky import FlakyTest, Observation, find_flaky
from .provenance import commit_under_test

MIGRATIONS: list[str] = [
    # 0 -> 1: the run history
    """
    CREATE TABLE test_runs (
        id TEXT PRIMARY KEY,
        started_at REAL NOT NULL,
        finished_at REAL NOT NULL,
        status TEXT NOT NULL,
        seed INTEGER NOT NULL,
        commit_sha TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        phases TEXT NOT NULL,
        report_dir TEXT,
        tests_total INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        unsupported INTEGER NOT NULL,
        duration_s REAL NOT NULL
    );
    CREATE INDEX test_runs_started ON test_runs(started_at);
    CREATE TABLE test_results (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        phase TEXT NOT NULL,
        harness TEXT NOT NULL,
        category TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_s REAL NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX test_results_name ON test_results(name);
    CREATE INDEX test_results_run ON test_results(run_id);
    CREATE TABLE coverage_data (
        run_id TEXT PRIMARY KEY REFERENCES test_runs(id) ON DELETE CASCADE,
        lines INTEGER NOT NULL,
        covered INTEGER NOT NULL,
        percent REAL NOT NULL,
        threshold_pct REAL NOT NULL
    );
    CREATE TABLE file_coverage (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        lines INTEGER NOT NULL,
        covered INTEGER NOT NULL,
        percent REAL NOT NULL,
        missing TEXT NOT NULL
    );
    CREATE TABLE benchmarks (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        value REAL NOT NULL,
        better TEXT NOT NULL
    );
    CREATE INDEX benchmarks_metric ON benchmarks(metric);
    CREATE TABLE performance_regressions (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        baseline REAL NOT NULL,
        current REAL NOT NULL,
        worse_pct REAL NOT NULL
    );
    CREATE TABLE chaos_tests (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        test TEXT NOT NULL,
        fault TEXT NOT NULL,
        started_at REAL,
        ended_at REAL,
        outcome TEXT NOT NULL
    );
    CREATE TABLE service_health (
        checked_at REAL NOT NULL,
        service TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE test_artifacts (
        run_id TEXT NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL
    );
    """,
    # 1 -> 2: the coordinator's queue of requested runs
    """
    CREATE TABLE coordinator_jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        request TEXT NOT NULL,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        run_id TEXT,
        report_dir TEXT,
        exit_code INTEGER,
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX coordinator_jobs_state ON coordinator_jobs(state);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

ARTIFACTS = ("report.json", "report.html", "junit.xml", "events.jsonl", "coverage.json")


class HistoryError(RuntimeError):
    """The history database cannot be used (newer schema, unreadable file)."""


def default_history_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "alys-test" / "history.sqlite"


def config_hash(config: dict[str, Any]) -> str:
    """Two runs with the same hash ran the same configuration (seed included)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


class HistoryStore:
    """One SQLite file of run history; open, use, close (or use as a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{path}: not a usable history database: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: schema version {version} is newer than this alys-test "
                f"({SCHEMA_VERSION}); upgrade alys-test or use another history_db"
            )
        for target in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target + 1}")

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- writing ---------------------------------------------------------------------------
    def record(
        self, report: dict[str, Any], report_dir: Path | None = None, commit: str = ""
    ) -> None:
        """Store one report.json (again: a re-recorded run replaces its rows)."""
        run_id = report["run_id"]
        tests = report["summary"]["tests"]
        results = [
            (p["phase"], TestResult.from_dict(t)) for p in report["phases"] for t in p["tests"]
        ]
        with self.transaction() as db:
            db.execute("DELETE FROM test_runs WHERE id = ?", (run_id,))
            db.execute(
                "INSERT INTO test_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    report["started_at"],
                    report["finished_at"],
                    report["status"],
                    report["seed"],
                    commit or report.get("commit") or commit_under_test(),
                    config_hash(report["config"]),
                    json.dumps(report["summary"]["phases"]),
                    str(report_dir) if report_dir else None,
                    tests["total"],
                    tests.get("passed", 0),
                    tests.get("failed", 0) + tests.get("not_implemented", 0),
                    tests.get("error", 0),
                    tests.get("skipped", 0),
                    tests.get("unsupported", 0),
                    report["finished_at"] - report["started_at"],
                ),
            )
            db.executemany(
                "INSERT INTO test_results VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        ph,
                        r.harness,
                        r.category,
                        r.name,
                        r.status.value,
                        r.duration_s,
                        r.message,
                    )
                    for ph, r in results
                ],
            )
            perf = performance_metrics([r for _, r in results])
            db.executemany(
                "INSERT INTO benchmarks VALUES (?,?,?,?)",
                [(run_id, k, v["value"], v["better"]) for k, v in sorted(perf.items())],
            )
            for phase in report["phases"]:
                for v in phase["validators"]:
                    for reg in v.get("details", {}).get("regressions", []):
                        db.execute(
                            "INSERT INTO performance_regressions VALUES (?,?,?,?,?)",
                            (
                                run_id,
                                reg["metric"],
                                reg["baseline"],
                                reg["current"],
                                reg["worse_pct"],
                            ),
                        )
            for _, r in results:
                for fault in r.metrics.get("faults", []) if isinstance(r.metrics, dict) else []:
                    if isinstance(fault, dict):
                        db.execute(
                            "INSERT INTO chaos_tests VALUES (?,?,?,?,?,?)",
                            (
                                run_id,
                                r.name,
                                str(fault.get("name", fault.get("fault", "?"))),
                                fault.get("start"),
                                fault.get("end"),
                                r.status.value,
                            ),
                        )
            cov = report.get("coverage")
            if isinstance(cov, dict) and "percent" in cov:
                db.execute(
                    "INSERT INTO coverage_data VALUES (?,?,?,?,?)",
                    (run_id, cov["lines"], cov["covered"], cov["percent"], cov["threshold_pct"]),
                )
                db.executemany(
                    "INSERT INTO file_coverage VALUES (?,?,?,?,?,?)",
                    [
                        (
                            run_id,
                            f["path"],
                            f["lines"],
                            f["covered"],
                            f["percent"],
                            json.dumps(f.get("missing", [])),
                        )
                        for f in cov.get("files", [])
                    ],
                )
            if report_dir is not None:
                db.executemany(
                    "INSERT INTO test_artifacts VALUES (?,?,?)",
                    [
                        (run_id, name, str(report_dir / name))
                        for name in ARTIFACTS
                        if (report_dir / name).exists()
                    ],
                )

    def record_health(self, service: str, status: str, detail: str = "") -> None:
        self.db.execute(
            "INSERT INTO service_health VALUES (?,?,?,?)", (time.time(), service, status, detail)
        )

    # -- reading ---------------------------------------------------------------------------
    def runs(self, last: int | None = None) -> list[dict[str, Any]]:
        """Runs newest first."""
        sql = "SELECT * FROM test_runs ORDER BY started_at DESC"
        rows = self.db.execute(sql + (" LIMIT ?" if last else ""), (last,) if last else ())
        return [dict(r) for r in rows]

    def test_history(self, name: str, last: int | None = None) -> list[dict[str, Any]]:
        """One test's results across runs, newest first; ``name`` or ``harness.name``."""
        harness, _, short = name.rpartition(".")
        sql = (
            "SELECT r.*, t.started_at, t.commit_sha, t.config_hash FROM test_results r "
            "JOIN test_runs t ON t.id = r.run_id WHERE r.name = ?"
            + (" AND r.harness = ?" if harness else "")
            + " ORDER BY t.started_at DESC"
            + (" LIMIT ?" if last else "")
        )
        args: list[Any] = [short] + ([harness] if harness else []) + ([last] if last else [])
        return [dict(r) for r in self.db.execute(sql, args)]

    def flaky(self, last_runs: int | None = None) -> list[FlakyTest]:
        ids = [r["id"] for r in self.runs(last_runs)]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT r.run_id, t.commit_sha, t.config_hash, r.harness, r.name, r.status "
            f"FROM test_results r JOIN test_runs t ON t.id = r.run_id WHERE r.run_id IN ({marks})",
            ids,
        )
        return find_flaky(Observation(*row) for row in rows)

    def benchmark_trend(self, last: int = 20) -> dict[str, list[tuple[float, float]]]:
        """metric -> [(run start time, value)], oldest first, over the last runs."""
        rows = self.db.execute(
            "SELECT t.started_at, b.metric, b.value FROM benchmarks b JOIN test_runs t "
            "ON t.id = b.run_id WHERE t.id IN "
            "(SELECT id FROM test_runs ORDER BY started_at DESC LIMIT ?) ORDER BY t.started_at",
            (last,),
        )
        out: dict[str, list[tuple[float, float]]] = {}
        for started, metric, value in rows:
            out.setdefault(metric, []).append((started, value))
        return out


def record_report_dir(report_dir: Path, history_db: Path | None) -> None:
    """Record DIR/report.json into the history (the framework calls this after a run)."""
    report = json.loads((report_dir / "report.json").read_text())
    with HistoryStore(history_db or default_history_path()) as store:
        store.record(report, report_dir)
