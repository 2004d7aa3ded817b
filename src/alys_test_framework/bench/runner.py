"""Run benchmark groups, compare with a baseline, print the table, write bench.json.

Exit codes (as ``alys-test run``): 0 no major/critical regression against ``--baseline`` and
every group ran; 1 a major/critical regression or a broken bench (a group that raised); 2 bad
input. A missed absolute performance goal is reported (``missed`` in the table and bench.json)
but gates only with ``enforce_goals`` (``--enforce-goals``): an unchanged build judged against
its own baseline must pass even on a machine too slow or too loaded for the goals.
"""

from __future__ import annotations

import asyncio
import importlib
import os
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
    enforce_goals: bool = False


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
            t0, c0 = time.perf_counter(), _cpu()
            cases = []
            try:
                cases = asyncio.run(mod.run(ctx))
            except Exception as e:  # one broken group is reported, the others still run
                run.errors.append(f"group {g}: {type(e).__name__}: {e}")
            run.cases += cases
            wall = time.perf_counter() - t0
            in_cases = sum(float(c.extra.get("elapsed_s", 0.0)) for c in cases)
            run.timing[g] = {
                "wall_s": round(wall, 2),
                "cpu_s": round(_cpu() - c0, 2),
                "cases_s": round(in_cases, 2),
                "setup_s": round(max(0.0, wall - in_cases), 2),
            }
            ctx.progress(f"group {g} done in {wall:.1f} s")
    finally:
        if profiler is not None:
            run.profiles = profiler.stop()
    run.finished_at = time.time()
    regressions = compare(run, baseline, opts.thresholds) if baseline else []
    run.regressions = [r.to_json() for r in regressions]
    run.write(opts.report_dir / "bench.json")
    if opts.save:
        run.write(opts.save)
    return run, regressions, judge(run, regressions, opts.enforce_goals)[0]


def judge(
    run: BenchRun, regressions: list[Regression], enforce_goals: bool = False
) -> tuple[int, str]:
    """The exit code and why: 1 for a failing regression or a broken group, for a missed goal
    only when goals are enforced."""
    failing = [f"{r.case} {r.severity.value}" for r in regressions if r.fails]
    missed = [c.key for c in run.cases if c.verdict == "missed"]
    met = sum(1 for c in run.cases if c.verdict == "met")
    goals = f"goals: {met} met, {len(missed)} missed" + (
        f" ({', '.join(missed)})" if missed else ""
    )
    why = []
    if failing:
        why.append("regression: " + ", ".join(failing))
    if run.errors:
        why.append(f"{len(run.errors)} group(s) broken")
    if enforce_goals and missed:
        why.append("goals missed (--enforce-goals)")
    if why:
        return 1, f"exit 1: {'; '.join(why)}. {goals}"
    gate = "" if enforce_goals else "; missed goals are reported, --enforce-goals makes them gate"
    base = "no failing regression against the baseline" if regressions else "nothing compared"
    return 0, f"exit 0: {base}{gate}. {goals}"
