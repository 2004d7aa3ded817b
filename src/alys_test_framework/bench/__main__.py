"""``python -m alys_test_framework.bench`` — the same as ``alys-test bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import BenchUsageError, bench_command
from .groups import GROUPS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="alys-test bench", description="benchmarks with same-run floors"
    )
    ap.add_argument("--group", action="append", choices=GROUPS, help="group to run (repeatable)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 3 min in all)")
    ap.add_argument("--save", type=Path, help="write this run as a baseline file")
    ap.add_argument("--baseline", type=Path, help="judge this run against a saved baseline")
    ap.add_argument("--profile", action="store_true", help="py-spy flamegraphs + memory top")
    ap.add_argument("--report-dir", type=Path)
    ap.add_argument("--major-pct", type=float, default=10.0)
    ap.add_argument("--critical-pct", type=float, default=25.0)
    ap.add_argument("--enforce-goals", action="store_true", help="a missed goal exits 1 too")
    a = ap.parse_args(argv)
    try:
        return bench_command(
            a.group, a.quick, a.save, a.baseline, a.profile, a.report_dir,
            a.major_pct, a.critical_pct, a.enforce_goals,
        )  # fmt: skip
    except BenchUsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
