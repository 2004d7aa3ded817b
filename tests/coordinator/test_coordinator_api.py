"""The coordinator's API against a real `alys-test serve` and real `alys-test run` processes."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil
from prometheus_client.parser import text_string_to_metric_families

from alys_test_framework.waiting import wait_until_blocking

from .conftest import start_coordinator, stop_coordinator


def test_health_status_and_metrics(coordinator):
    assert coordinator.request("GET", "/health")[:2] == (200, {"status": "ok"})
    status, doc, _ = coordinator.request("GET", "/status")
    assert status == 200 and doc["max_parallel"] == 1
    status, text, ctype = coordinator.request("GET", "/metrics")
    assert status == 200 and ctype == "text/plain"
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {
        "test_coordinator_total_runs",
        "test_coordinator_running_tests",
        "test_coordinator_success_rate",
        "test_duration_seconds",
    } <= names


def test_foundation_run_passes_and_is_reported(coordinator):
    status, job, _ = coordinator.request(
        "POST", "/test-runs", {"phases": ["foundation"], "preset": "development", "seed": 3}
    )
    assert status == 202 and job["state"] == "queued", job
    done = coordinator.wait_finished(job["id"])
    assert done["state"] == "passed", done
    assert done["exit_code"] == 0 and done["report"]["status"] == "passed"
    assert done["report"]["summary"]["tests"]["passed"] == 7
    status, html, ctype = coordinator.request("GET", f"/runs/{job['id']}/report")
    assert status == 200 and ctype == "text/html" and "Plotly" in html
    status, report, _ = coordinator.request("GET", f"/runs/{job['id']}/files/report.json")
    assert status == 200 and report["seed"] == 3
    status, runs, _ = coordinator.request("GET", "/test-runs")
    assert job["id"] in [r["id"] for r in runs["runs"]]
    families = {
        f.name: f for f in text_string_to_metric_families(coordinator.request("GET", "/metrics")[1])
    }
    assert families["test_coordinator_success_rate"].samples[0].value == 1.0
    # the run is in the same SQLite history `alys-test history` reads
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "alys_test_framework.cli",
            "history",
            "--db",
            str(coordinator.data_dir / "history.sqlite"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done["run_id"] in [r["id"] for r in json.loads(p.stdout)["rows"]]


def _run_processes(job_dir: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(job_dir in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_cancel_keeps_partial_reports_and_leaves_no_process(coordinator):
    status, job, _ = coordinator.request(
        "POST", "/test-runs", {"phases": ["actor-core"], "preset": "development"}
    )
    assert status == 202
    events = coordinator.data_dir / "runs" / job["id"] / "report" / "events.jsonl"
    wait_until_blocking(
        lambda: events.exists() and "test_slow" in events.read_text(),
        120,
        "the slow test started",
    )
    job_dir = str(coordinator.data_dir / "runs" / job["id"])
    assert _run_processes(job_dir), "the run should be a live process before the cancel"
    status, doc, _ = coordinator.request("POST", f"/test-runs/{job['id']}/cancel")
    assert status == 200 and doc["state"] == "cancelled", doc
    assert doc["exit_code"] == 143
    report = json.loads(
        (coordinator.data_dir / "runs" / job["id"] / "report" / "report.json").read_text()
    )
    assert report["status"] == "interrupted" and report["signal"] == "SIGTERM"
    assert _run_processes(job_dir) == []
    # cancelling a finished run changes nothing
    status, again, _ = coordinator.request("POST", f"/test-runs/{job['id']}/cancel")
    assert status == 200 and again["state"] == "cancelled"


def test_bad_requests_are_json_4xx(coordinator):
    cases = [
        ("POST", "/test-runs", b"{not json", 400, "not JSON"),
        ("POST", "/test-runs", b"[1, 2]", 400, "JSON object"),
        ("POST", "/test-runs", b'{"phases": ["warp"]}', 400, "unknown phase"),
        ("POST", "/test-runs", b'{"phases": "foundation"}', 400, "list of phase names"),
        ("POST", "/test-runs", b'{"preset": "turbo"}', 400, "preset must be one of"),
        ("POST", "/test-runs", b'{"seed": -1}', 400, "seed"),
        ("POST", "/test-runs", b'{"seed": true}', 400, "seed"),
        ("POST", "/test-runs", b'{"colour": "red"}', 400, "unknown field"),
        ("POST", "/test-runs", b'{"config": {"plugins": ["os:system"]}}', 400, "cannot be set"),
        (
            "POST",
            "/test-runs",
            b'{"config": {"network": {"node_command": ["sh"]}}}',
            400,
            "network.node_command",
        ),
        (
            "POST",
            "/test-runs",
            b'{"config": {"network": {"failure_rate": 3}}}',
            400,
            "network.failure_rate",
        ),
        ("POST", "/test-runs", b'{"config": {"network": 5}}', 400, "network"),
        ("POST", "/test-runs", b"[" * 100_000, 413, ""),
        ("GET", "/test-runs/no-such-run", None, 404, "no run"),
        ("POST", "/test-runs/no-such-run/cancel", None, 404, "no run"),
        ("GET", "/test-runs?limit=abc", None, 400, "limit"),
        ("GET", "/test-runs?limit=0", None, 400, "limit"),
        ("DELETE", "/test-runs", None, 405, ""),
        ("GET", "/no/such/page", None, 404, ""),
        ("GET", "/runs/no-such-run/files/x", None, 404, ""),
    ]
    for method, path, raw, want, needle in cases:
        status, doc, ctype = coordinator.request(method, path, raw=raw)
        assert (status, ctype) == (want, "application/json"), (method, path, status, doc)
        assert isinstance(doc, dict) and needle in doc["error"], (path, doc)
    assert coordinator.request("GET", "/status")[1]["total_runs"] >= 0  # still serving


def test_bearer_token(tmp_path):
    c = start_coordinator(tmp_path, token="s3cret")
    try:
        assert c.request("GET", "/health", token="")[0] == 200  # probes need no token
        status, doc, _ = c.request("GET", "/status", token="")
        assert status == 401 and "bearer token" in doc["error"]
        assert c.request("GET", "/status", token="wrong")[0] == 401
        assert c.request("GET", "/status")[0] == 200
    finally:
        stop_coordinator(c)


def test_non_loopback_without_token_refuses_to_start(tmp_path):
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "alys_test_framework.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            k: v for k, v in __import__("os").environ.items() if k != "ALYS_TEST_COORDINATOR_TOKEN"
        },
    )
    assert p.returncode == 2 and "needs a bearer token" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
