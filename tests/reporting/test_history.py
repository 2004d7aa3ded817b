"""Run history: migrations, recording real reports, `alys-test history`, flaky detection."""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys

import pytest

from alys_test_framework.reporting.flaky import Observation, find_flaky
from alys_test_framework.reporting.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryError,
    HistoryStore,
)

TABLES = {
    "test_runs",
    "test_results",
    "coverage_data",
    "file_coverage",
    "benchmarks",
    "performance_regressions",
    "chaos_tests",
    "service_health",
    "test_artifacts",
    "coordinator_jobs",
}


def variant(report, run_id, started, flip=None, commit=None):
    """A copy of a real report as another run; ``flip`` = (test name, new status)."""
    r = copy.deepcopy(report)
    r["run_id"], r["started_at"] = run_id, started
    r["finished_at"] = started + 5
    if commit:
        r["commit"] = commit
    for p in r["phases"]:
        for t in p["tests"]:
            if flip and t["name"] == flip[0]:
                t["status"] = flip[1]
    return r


def test_migrations_are_versioned_and_stepwise(tmp_path):
    db = tmp_path / "h.sqlite"
    raw = sqlite3.connect(db)  # a database at version 1, as an older alys-test left it
    raw.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    raw.close()
    with HistoryStore(db) as store:
        assert store.version == SCHEMA_VERSION == 2
        names = {
            r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert TABLES <= names


def test_a_newer_schema_is_refused_untouched(tmp_path):
    db = tmp_path / "h.sqlite"
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(HistoryError, match="newer than this alys-test"):
        HistoryStore(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 99


def test_the_framework_records_its_run(foundation_run):
    run_dir, db = foundation_run
    report = json.loads((run_dir / "report.json").read_text())
    with HistoryStore(db) as store:
        (row,) = store.runs()
        assert row["id"] == report["run_id"] and row["status"] == "passed"
        assert row["passed"] == report["summary"]["tests"]["passed"] == 7
        tests = store.test_history("foundation.test_latency_histogram")
        assert [t["status"] for t in tests] == ["passed"]
        kinds = {r[0] for r in store.db.execute("SELECT kind FROM test_artifacts")}
        assert {"report.json", "junit.xml", "events.jsonl", "report.html"} <= kinds
        assert store.benchmark_trend()  # the histogram's p50/p99 are performance metrics


def test_flaky_test_is_detected(tmp_path, foundation_run):
    run_dir, _ = foundation_run
    report = json.loads((run_dir / "report.json").read_text())
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        store.record(variant(report, "r1", 1000.0, commit="c1"))
        store.record(variant(report, "r2", 2000.0, ("test_resource_sampling", "failed"), "c1"))
        store.record(variant(report, "r3", 3000.0, commit="c1"))
        # another commit failing the same test is a regression candidate, not flakiness
        store.record(variant(report, "r4", 4000.0, ("test_latency_histogram", "failed"), "c2"))
        store.record(variant(report, "r5", 5000.0, ("test_latency_histogram", "skipped"), "c1"))
        flaky = store.flaky()
    assert [f.test for f in flaky] == ["foundation.test_resource_sampling"]
    assert sorted(flaky[0].statuses["passed"]) == ["r1", "r3", "r5"]
    assert flaky[0].statuses["failed"] == ["r2"]
    p = subprocess.run(
        [sys.executable, "-m", "alys_test_framework.cli", "history", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert "flaky foundation.test_resource_sampling" in p.stdout
    for rid in ("r1", "r2", "r3", "r4", "r5"):
        assert rid in p.stdout
    p = subprocess.run(
        [sys.executable, "-m", "alys_test_framework.cli", "history", "--db", str(db)]
        + ["--test", "test_resource_sampling", "--last", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = json.loads(p.stdout)["rows"]
    assert [r["run_id"] for r in rows] == ["r5", "r4"]


def test_find_flaky_rules():
    def obs(run, status, commit="c", cfg="h"):
        return Observation(run, commit, cfg, "h", "t", status)

    assert find_flaky([obs("1", "passed"), obs("2", "passed")]) == []
    assert find_flaky([obs("1", "passed"), obs("2", "unsupported")]) == []
    assert find_flaky([obs("1", "passed"), obs("2", "error", cfg="other")]) == []
    (f,) = find_flaky([obs("1", "passed"), obs("2", "error")])
    assert f.statuses == {"passed": ["1"], "error": ["2"]}


def test_history_cli_bad_input_is_one_line(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "alys_test_framework.cli", "history", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    p = run("--db", str(tmp_path / "none.sqlite"))
    assert p.returncode == 2 and "no run history yet" in p.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite" * 100)
    p = run("--db", str(junk))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr
