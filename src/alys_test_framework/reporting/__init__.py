"""Reports written for every run: report.json, junit.xml (events.jsonl is written live)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..results import RunResult
from .json_report import SCHEMA_VERSION, build_report, write_json_report
from .junit import build_junit, write_junit
from .replay import replay_summary


def write_reports(result: RunResult, report_dir: Path) -> dict[str, Any]:
    report = write_json_report(result, report_dir / "report.json")
    write_junit(result, report_dir / "junit.xml")
    return report


__all__ = [
    "SCHEMA_VERSION",
    "build_junit",
    "build_report",
    "replay_summary",
    "write_json_report",
    "write_junit",
    "write_reports",
]
