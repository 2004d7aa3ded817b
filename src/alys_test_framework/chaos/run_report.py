"""A chaos run in the framework's own reports (report.json, junit.xml, report.html), so
``alys-test chaos`` is read, archived and drawn like ``alys-test run``.

Rules:
1. One SyncImprovement phase holding harness ``chaos``: the test ``test_chaos_schedule`` (the
   name the chaos harness gives it in ``alys-test run``) with the whole ChaosReport in its
   metrics, the fault windows (``faults``) and the client operations (``history``) the HTML
   timeline draws; then one test per event, ``chaos_<id>_<Type>``, with its measured effect.
2. Event statuses map one to one: passed, failed, error, unsupported (never a pass).
3. The phase passes iff the ChaosReport passed; its failures (checker, rule, node, events
   around) are the schedule test's message. The whole ChaosReport is also ``metrics.chaos``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..config import TestConfig
from ..phases import MigrationPhase
from ..reporting import write_reports
from ..results import PhaseResult, PhaseStatus, RunResult, TestResult, TestStatus
from .report import ChaosReport

STATUS = {"passed": TestStatus.PASSED, "failed": TestStatus.FAILED, "error": TestStatus.ERROR,
          "unsupported": TestStatus.UNSUPPORTED}  # fmt: skip
MAX_OPS = 5000  # the timeline's points; the full history stays in history.jsonl


def _ops(history: Path, t0: float) -> list[dict[str, Any]]:
    """Client operations as the timeline plot takes them: {time, process, type, f}."""
    out: list[dict[str, Any]] = []
    try:
        lines = history.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("kind") == "op":
            out.append({"time": round(float(e["t"]) - t0, 3), "process": e.get("node"),
                        "type": "ok" if e.get("ok") else "fail", "f": e.get("op")})  # fmt: skip
    return out[-MAX_OPS:]


def run_result(
    report: ChaosReport, cfg: TestConfig, run_id: str, started_at: float, workdir: Path
) -> RunResult:
    d = report.to_json()
    t0 = min((r.started_at for r in report.events if r.started_at), default=started_at)
    duration = time.time() - started_at
    sched = TestResult(
        "test_chaos_schedule", "chaos", "chaos",
        TestStatus.PASSED if report.passed else TestStatus.FAILED, duration,
        "; ".join(report.failures()[:8]) if not report.passed else
        f"{len(report.injected)} events injected, resilience {report.resilience_score}",
        {**d, **report.plot_metrics(t0), "history": _ops(workdir / "history.jsonl", t0)},
    )  # fmt: skip
    events = [
        TestResult(
            f"chaos_{e.event['id']}_{e.event['type']}",
            "chaos",
            e.event["category"],
            STATUS.get(e.status, TestStatus.ERROR),
            round((e.ended_at or 0) - (e.started_at or 0), 3) if e.started_at else 0.0,
            e.detail,
            e.to_json(),
        )  # fmt: skip
        for e in report.events
    ]
    phase = PhaseResult(
        MigrationPhase.SYNC_IMPROVEMENT,
        PhaseStatus.PASSED if report.passed else PhaseStatus.FAILED,
        [sched, *events], harnesses=["chaos"], duration_s=duration,
        message="" if report.passed else "; ".join(report.failures()[:3]),
    )  # fmt: skip
    return RunResult(run_id, report.seed, cfg, [phase], started_at, time.time(),
                     metrics={"chaos": d})  # fmt: skip


def write_run_reports(
    report: ChaosReport, cfg: TestConfig, out_dir: Path, started_at: float, workdir: Path
) -> dict[str, Any]:
    """report.json, junit.xml and report.html in ``out_dir`` (beside chaos_report.json)."""
    res = run_result(report, cfg, f"chaos-{report.seed}-{int(started_at)}", started_at, workdir)
    return write_reports(res, out_dir, html=cfg.reporting.html)
