"""Run benchmark groups, compare with a baseline, print the table, write bench.json.

Exit codes (as ``alys-test run``): 0 every target met and no major/critical regression; 1 a
target missed, a group failed or a major/critical regression; 2 bad input.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .context import BenchContext
from .groups import GROUPS
from .model import BenchRun, load_bench
from .regression import Regression, Thresholds, compare


@dataclass
class BenchOptions:
    groups: list[str] = field(default_factory=lambda: list(GROUPS))
    quick: bool = False
    save: Path | None = None
    baseline: Path | None = None
    profile: bool = False
    report_dir: Path = field(default_factory=lambda: Path("alys-test-reports") / "bench")
    thresholds: Thresholds = field(default_factory=Thresholds)
    samples_override: int | None = None


def check_groups(names: Iterable[str]) -> list[str]:
    out = []
    for n in names:
        if n not in GROUPS:
            raise ValueError(f"unknown benchmark group {n!r}; expected one of: {', '.join(GROUPS)}")
        if n not in out:
            out.append(n)
    return out


def run_bench(opts: BenchOptions) -> tuple[BenchRun, list[Regression], int]:
    groups = check_groups(opts.groups)
    baseline = load_bench(opts.baseline) if opts.baseline else None  # bad file: fail before work
    opts.report_dir.mkdir(parents=True, exist_ok=True)
    ctx = BenchContext(
        quick=opts.quick, workdir=opts.report_dir, samples_override=opts.samples_override
    )
    run = BenchRun(quick=opts.quick, groups=groups)
    profiler = None
    if opts.profile:
        from .profile import Profiler

        profiler = Profiler(opts.report_dir)
        profiler.start()
    try:
        for g in groups:
            mod = importlib.import_module(f"alys_test_framework.bench.groups.{g}")
            ctx.progress(f"group {g} ...")
            t0 = time.perf_counter()
            try:
                run.cases += asyncio.run(mod.run(ctx))
            except Exception as e:  # one broken group is reported, the others still run
                run.errors.append(f"group {g}: {type(e).__name__}: {e}")
            ctx.progress(f"group {g} done in {time.perf_counter() - t0:.1f} s")
    finally:
        if profiler is not None:
            run.profiles = profiler.stop()
    run.finished_at = time.time()
    regressions = compare(run, baseline, opts.thresholds) if baseline else []
    run.regressions = [r.to_json() for r in regressions]
    run.write(opts.report_dir / "bench.json")
    if opts.save:
        run.write(opts.save)
    missed = [c for c in run.cases if c.verdict == "missed"]
    failing = [r for r in regressions if r.severity.fails]
    code = 1 if (missed or failing or run.errors) else 0
    return run, regressions, code
