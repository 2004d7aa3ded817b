"""Reports written for every run: report.json, junit.xml, report.html (events.jsonl is live),
and the run history they are recorded in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import TestConfig
from ..results import RunResult
from .history import HistoryStore, default_history_path
from .html import build_html, write_html_report
from .json_report import SCHEMA_VERSION, build_report, write_json_report
from .junit import build_junit, write_junit
from .replay import replay_summary


def write_reports(result: RunResult, report_dir: Path, *, html: bool = True) -> dict[str, Any]:
    """report.json, junit.xml and (without trends) report.html; called after every phase."""
    report = write_json_report(result, report_dir / "report.json")
    write_junit(result, report_dir / "junit.xml")
    if html:
        write_html_report(report_dir)
    return report


def history_path(config: TestConfig) -> Path:
    return config.reporting.history_db or default_history_path()


def finish_reports(report_dir: Path, config: TestConfig) -> None:
    """At the end of a run: record it in the history, then rebuild report.html with trends."""
    db = history_path(config) if config.reporting.history else None
    if db is not None:
        with HistoryStore(db) as store:
            store.record(json.loads((report_dir / "report.json").read_text()), report_dir)
    if config.reporting.html:
        write_html_report(report_dir, db, config.reporting.trend_runs)


__all__ = [
    "SCHEMA_VERSION",
    "build_html",
    "build_junit",
    "build_report",
    "finish_reports",
    "history_path",
    "replay_summary",
    "write_html_report",
    "write_json_report",
    "write_junit",
    "write_reports",
]
