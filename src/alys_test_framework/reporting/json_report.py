"""report.json: the versioned, documented record of a run (schema in ``schema.py``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..results import RunResult
from .provenance import commit_under_test

SCHEMA_VERSION = 1


def build_report(result: RunResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": result.run_id,
        "seed": result.seed,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "status": result.summary()["status"],
        "interrupted": result.interrupted,
        "signal": result.signal,
        "commit": commit_under_test(),
        "config": result.config.to_dict(),
        "summary": result.summary(),
        "phases": [
            {
                "phase": p.phase.value,
                "status": p.status.value,
                "message": p.message,
                "duration_s": p.duration_s,
                "harnesses": p.harnesses,
                "validators": [v.to_dict() for v in p.verdicts],
                "metrics": p.metrics.to_dict(),
                "harness_metrics": p.harness_metrics,
                "tests": [r.to_dict() for r in p.results],
            }
            for p in result.phases
        ],
        "metrics": result.metrics,
        "gates": [g.to_dict() for g in result.gates],
        **({"coverage": result.coverage} if result.coverage is not None else {}),
    }


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader never sees a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_report(result: RunResult, path: Path) -> dict[str, Any]:
    report = build_report(result)
    atomic_write(path, json.dumps(report, indent=2, default=str))
    return report
