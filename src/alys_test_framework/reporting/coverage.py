"""Line coverage of the targets during a run (``coverage_enabled``), and its gate.

Rules:
- measured by coverage.py over the framework process (in-process targets such as the actor
  runtime) and every Python subprocess it starts (node processes), through coverage's own
  subprocess support (``patch = subprocess``; ``sigterm = true`` so a node stopped with SIGTERM
  still saves its data); a node killed with SIGKILL cannot save, and is missing from the data;
- only the configured source packages count (``reporting.coverage_source``);
- the gate passes iff the measured percentage reaches ``reporting.coverage_threshold_pct``; no
  measured line at all fails it (nothing was exercised);
- outputs in the report dir: coverage/ (HTML), coverage.json, coverage.lcov, and a summary with
  per-file uncovered lines in report.json ("coverage").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..results import ValidatorVerdict, Verdict


@dataclass
class CoverageRun:
    """A started measurement; ``finish`` stops it and writes the outputs."""

    report_dir: Path
    source: list[str]
    threshold_pct: float
    _cov: Any = None
    _env_before: str | None = None

    @property
    def rcfile(self) -> Path:
        return self.report_dir / ".coveragerc"

    @property
    def data_file(self) -> Path:
        return self.report_dir / ".coverage"

    def start(self) -> None:
        import coverage

        self.report_dir.mkdir(parents=True, exist_ok=True)
        self.rcfile.write_text(
            "[run]\n"
            f"data_file = {self.data_file}\n"
            f"source = {', '.join(self.source)}\n"
            "parallel = true\n"
            "patch = subprocess\n"
            "sigterm = true\n"
            "concurrency = thread\n"
        )
        self._cov = coverage.Coverage(config_file=str(self.rcfile))
        self._cov.start()

    def finish(self) -> dict[str, Any]:
        """Stop, combine the processes' data, write HTML/JSON/lcov; the report's summary."""
        cov = self._cov
        cov.stop()
        cov.save()
        cov.combine(data_paths=[str(self.report_dir)], keep=False)
        cov.save()
        try:
            cov.json_report(outfile=str(self.report_dir / "coverage.json"))
            cov.html_report(directory=str(self.report_dir / "coverage"))
            cov.lcov_report(outfile=str(self.report_dir / "coverage.lcov"))
        except Exception as exc:  # coverage.exceptions.NoDataError: nothing was measured
            return {
                "lines": 0,
                "covered": 0,
                "percent": 0.0,
                "files": [],
                "threshold_pct": self.threshold_pct,
                "error": str(exc),
            }
        return summarize_json(self.report_dir / "coverage.json", self.threshold_pct)


def summarize_json(path: Path, threshold_pct: float) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    files = []
    for name, data in sorted(doc.get("files", {}).items()):
        s = data["summary"]
        files.append(
            {
                "path": os.path.relpath(name) if os.path.isabs(name) else name,
                "lines": s["num_statements"],
                "covered": s["covered_lines"],
                "percent": round(s["percent_covered"], 2),
                "missing": _ranges(data.get("missing_lines", [])),
            }
        )
    totals = doc.get("totals", {})
    return {
        "lines": totals.get("num_statements", 0),
        "covered": totals.get("covered_lines", 0),
        "percent": round(totals.get("percent_covered", 0.0), 2),
        "threshold_pct": threshold_pct,
        "files": files,
    }


def _ranges(lines: list[int]) -> list[str]:
    """[1, 2, 3, 7] -> ["1-3", "7"]: what a person reads in the report."""
    out: list[str] = []
    start = prev = None
    for n in sorted(lines):
        if start is None:
            start = prev = n
        elif n == prev + 1:  # type: ignore[operator]
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return out


def coverage_gate(summary: dict[str, Any]) -> ValidatorVerdict:
    pct, threshold = summary.get("percent", 0.0), summary["threshold_pct"]
    details = {"percent": pct, "threshold_pct": threshold, "lines": summary.get("lines", 0)}
    if not summary.get("lines"):
        return ValidatorVerdict(
            "CoverageValidator", Verdict.FAILED, "no line of the targets was measured", details
        )
    ok = pct >= threshold
    return ValidatorVerdict(
        "CoverageValidator",
        Verdict.PASSED if ok else Verdict.FAILED,
        f"line coverage {pct:.1f}% {'>=' if ok else '<'} {threshold:g}% of "
        f"{summary['lines']} lines",
        details,
    )
