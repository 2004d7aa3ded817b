"""``alys-test bench``: the command body, kept here so the CLI module only declares options."""

from __future__ import annotations

import sys
from pathlib import Path

from .groups import GROUPS
from .model import BenchFileError
from .regression import Thresholds
from .runner import BenchOptions, check_groups, judge, run_bench
from .table import render


class BenchUsageError(ValueError):
    """Bad bench input; the CLI prints it as one line and exits 2."""


def bench_command(
    groups: list[str] | None,
    quick: bool,
    save: Path | None,
    baseline: Path | None,
    profile: bool,
    report_dir: Path | None,
    major_pct: float = 10.0,
    critical_pct: float = 25.0,
    enforce_goals: bool = False,
) -> int:
    """Run, print the table, return the exit code; bad input raises BenchUsageError."""
    try:
        names = check_groups(groups or list(GROUPS))
        thresholds = Thresholds(major_pct, critical_pct)
    except ValueError as e:
        raise BenchUsageError(str(e)) from None
    if baseline is not None and not baseline.is_file():
        raise BenchUsageError(f"baseline {baseline}: no such file")
    opts = BenchOptions(
        groups=names,
        quick=quick,
        save=save,
        baseline=baseline,
        profile=profile,
        report_dir=report_dir or Path("alys-test-reports") / "bench",
        thresholds=thresholds,
        enforce_goals=enforce_goals,
    )
    try:
        run, regressions, code = run_bench(opts)
    except BenchFileError as e:
        raise BenchUsageError(str(e)) from None
    print(render(run, regressions))
    print(judge(run, regressions, enforce_goals)[1])
    print(f"bench.json: {opts.report_dir / 'bench.json'}", file=sys.stderr)
    return code
