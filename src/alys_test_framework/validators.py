"""Validators: the gates between phases.

A phase passes only when every validator that applies to it passes. Phase validators check that
the right categories were measured and passed; result validators check duration, success rate
and performance against a stored baseline. Each verdict names what it measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .config import TestConfig
from .phases import MigrationPhase
from .results import TestResult, TestStatus, ValidatorVerdict, Verdict
from .severity import Severity, Thresholds, classify

# Categories a phase must measure whatever harness classes declare (issue: ActorCore needs at
# least lifecycle and recovery). The rest comes from each harness class's ``categories``.
MINIMUM_CATEGORIES: dict[MigrationPhase, tuple[str, ...]] = {
    MigrationPhase.ACTOR_CORE: ("lifecycle", "recovery"),
}


# statuses that fail a phase: a broken check, a broken test, or a capability the target lacks
_NOT_MEASURED_OK = (TestStatus.FAILED, TestStatus.ERROR, TestStatus.UNSUPPORTED)


def phase_validator(
    phase: MigrationPhase, results: list[TestResult], required: Iterable[str]
) -> ValidatorVerdict:
    """Foundation: zero failures. Other phases: every required category present and passing."""
    name = f"{phase.camel}PhaseValidator"
    bad = [r for r in results if r.status in _NOT_MEASURED_OK]
    if not results:
        return ValidatorVerdict(name, Verdict.FAILED, "no test results: nothing was measured")
    if phase is MigrationPhase.FOUNDATION:
        if bad:
            names = ", ".join(f"{r.name} ({r.message})" for r in bad)
            return ValidatorVerdict(name, Verdict.FAILED, f"{len(bad)} failure(s): {names}")
        return ValidatorVerdict(name, Verdict.PASSED, f"{len(results)} checks, zero failures")
    required = sorted(set(required) | set(MINIMUM_CATEGORIES.get(phase, ())))
    by_cat: dict[str, list[TestResult]] = {}
    for r in results:
        by_cat.setdefault(r.category, []).append(r)
    missing = [c for c in required if c not in by_cat]
    failing = {
        c: [r.name for r in by_cat[c] if not r.passed and r.status is not TestStatus.SKIPPED]
        for c in required
        if c in by_cat
    }
    failing = {c: names for c, names in failing.items() if names}
    unsupported = sorted(r.name for r in results if r.status is TestStatus.UNSUPPORTED)
    all_skipped = [
        c
        for c in required
        if c in by_cat and all(r.status is TestStatus.SKIPPED for r in by_cat[c])
    ]
    details = {
        "required": required,
        "missing": missing,
        "failing": failing,
        "all_skipped": all_skipped,
        "unsupported": unsupported,
    }
    problems = []
    if missing:
        problems.append(f"missing categories: {', '.join(missing)}")
    if failing:
        problems.append(
            "failing categories: " + "; ".join(f"{c} ({', '.join(n)})" for c, n in failing.items())
        )
    if unsupported:
        problems.append(f"unsupported by the target: {', '.join(unsupported)}")
    if all_skipped:
        problems.append(f"categories with every test skipped: {', '.join(all_skipped)}")
    if problems:
        return ValidatorVerdict(name, Verdict.FAILED, "; ".join(problems), details)
    return ValidatorVerdict(
        name,
        Verdict.PASSED,
        f"all {len(required)} required categories present and passing",
        details,
    )


def duration_validator(results: list[TestResult], max_s: float) -> ValidatorVerdict:
    slow = [(r.name, round(r.duration_s, 3)) for r in results if r.duration_s > max_s]
    longest = max((r.duration_s for r in results), default=0.0)
    details = {"max_allowed_s": max_s, "longest_s": longest, "too_slow": slow}
    if slow:
        return ValidatorVerdict(
            "DurationValidator",
            Verdict.FAILED,
            f"{len(slow)} test(s) exceeded {max_s:g} s: "
            + ", ".join(f"{n} ({d} s)" for n, d in slow),
            details,
        )
    return ValidatorVerdict(
        "DurationValidator", Verdict.PASSED, f"longest test {longest:.3f} s <= {max_s:g} s", details
    )


def success_rate_validator(results: list[TestResult], min_rate: float) -> ValidatorVerdict:
    counted = [r for r in results if r.status is not TestStatus.SKIPPED]
    if not counted:
        return ValidatorVerdict(
            "SuccessRateValidator", Verdict.FAILED, "no test was run to completion"
        )
    rate = sum(r.passed for r in counted) / len(counted)
    details = {"rate": rate, "min_rate": min_rate, "counted": len(counted)}
    status = Verdict.PASSED if rate >= min_rate else Verdict.FAILED
    return ValidatorVerdict(
        "SuccessRateValidator",
        status,
        f"success rate {rate:.1%} {'>=' if status is Verdict.PASSED else '<'} {min_rate:.0%}",
        details,
    )


# -- performance baselines --------------------------------------------------------------------

HIGHER_IS_BETTER = ("per_s", "throughput", "speedup", "ops")
LOWER_IS_BETTER = ("_ms", "_s", "latency", "duration", "_us")


def metric_direction(key: str) -> str | None:
    """'higher' or 'lower' is better, judged from the metric's name; None = not a perf metric."""
    k = key.lower()
    if any(s in k for s in HIGHER_IS_BETTER):
        return "higher"
    if any(k.endswith(s) or s in k for s in LOWER_IS_BETTER):
        return "lower"
    return None


def performance_metrics(results: list[TestResult]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        if not r.passed:
            continue
        for key, value in r.metrics.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            direction = metric_direction(key)
            if direction is not None and value > 0:
                out[f"{r.harness}.{r.name}.{key}"] = {"value": float(value), "better": direction}
    return out


def save_baseline(report: dict[str, Any], path: Path) -> int:
    """Write the performance metrics of a report.json as a baseline file; returns the count."""
    results = [
        TestResult.from_dict(t) for p in report.get("phases", []) for t in p.get("tests", [])
    ]
    metrics = performance_metrics(results)
    doc = {"schema_version": 1, "source_run": report.get("run_id"), "metrics": metrics}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    return len(metrics)


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        raise ValueError(f"{path}: not a baseline file (expected an object with 'metrics')")
    return doc["metrics"]


def performance_regression_validator(
    results: list[TestResult], baseline_file: Path | None, threshold_pct: float
) -> ValidatorVerdict:
    name = "PerformanceRegressionValidator"
    if baseline_file is None:
        return ValidatorVerdict(name, Verdict.SKIPPED, "no baseline file configured")
    if not baseline_file.exists():
        return ValidatorVerdict(name, Verdict.SKIPPED, f"baseline {baseline_file} not found")
    try:
        baseline = load_baseline(baseline_file)
    except (ValueError, OSError) as exc:
        return ValidatorVerdict(name, Verdict.FAILED, f"unreadable baseline: {exc}")
    current = performance_metrics(results)
    # the bench's severity scale: threshold_pct is where "major" (failing) begins
    thresholds = Thresholds(threshold_pct, max(threshold_pct, 25.0))
    compared, regressions = 0, []
    for key, base in baseline.items():
        cur = current.get(key)
        if cur is None or not base.get("value"):
            continue
        compared += 1
        b, c = float(base["value"]), cur["value"]
        worse_pct = (b - c) / b * 100 if base.get("better") == "higher" else (c - b) / b * 100
        severity = classify(worse_pct, thresholds)
        if severity is not Severity.NONE:
            regressions.append(
                {"metric": key, "baseline": b, "current": c, "worse_pct": round(worse_pct, 1),
                 "severity": severity.value}
            )  # fmt: skip
    details = {"compared": compared, "threshold_pct": threshold_pct, "regressions": regressions}
    failing = [r for r in regressions if Severity(r["severity"]).fails]
    if failing:
        regressions = failing
        worst = max(regressions, key=lambda r: r["worse_pct"])
        return ValidatorVerdict(
            name,
            Verdict.FAILED,
            f"{len(regressions)} metric(s) regressed more than {threshold_pct:g}%; worst "
            f"{worst['metric']}: {worst['baseline']:g} -> {worst['current']:g} ({worst['worse_pct']}% worse)",
            details,
        )
    if compared == 0:
        return ValidatorVerdict(
            name, Verdict.SKIPPED, "baseline shares no metric with this phase", details
        )
    minor = f"; {len(regressions)} minor regression(s) reported" if regressions else ""
    return ValidatorVerdict(
        name,
        Verdict.PASSED,
        f"{compared} metric(s) within {threshold_pct:g}% of baseline{minor}",
        details,
    )


# -- the original SyncTestHarness's quality gates ---------------------------------------------

# the failure scenarios whose recovery the resilience gate counts (a recovered scenario passed)
FAILURE_SCENARIOS = (
    "test_source_killed_mid_sync", "test_cascading_disconnections",
    "test_peer_disconnection_resilience", "test_corrupted_block_handling",
    "test_sync_across_partition", "test_parallel_sync_with_failures",
    "test_recovery_after_sigkill", "test_recovery_scenarios",
)  # fmt: skip


def sync_quality_validator(results: list[TestResult], config: TestConfig) -> ValidatorVerdict:
    """The original's gates, from the figures the sync tests recorded: full-sync throughput,
    checkpoint intervals accepted and exercised across the configured range, parallel
    sessions completed, and the share of failure scenarios recovered. A gate whose test did not
    run is reported as not measured, never as passed."""
    name, sc = "SyncQualityValidator", config.sync
    by = {r.name: r for r in results if r.harness == "sync"}
    gates: dict[str, Any] = {}
    if (full := by.get("test_full_sync")) and "blocks_per_s" in full.metrics:
        rate = float(full.metrics["blocks_per_s"])
        gates["full_sync_blocks_per_s"] = (rate >= sc.min_blocks_per_s, f"{rate:g} >= "
                                           f"{sc.min_blocks_per_s:g} blocks/s")  # fmt: skip
    if (iv := by.get("test_checkpoint_interval_configurable")) and "intervals_ok" in iv.metrics:
        ok = set(iv.metrics["intervals_ok"])
        need = {sc.min_checkpoint_interval, sc.max_checkpoint_interval}
        gates["checkpoint_intervals"] = (need <= ok, f"{sorted(need)} within {sorted(ok)}")
    if (cs := by.get("test_concurrent_sync_sessions")) and "sessions_completed" in cs.metrics:
        n = int(cs.metrics["sessions_completed"])
        gates["parallel_sessions"] = (n >= sc.max_parallel_sessions,
                                      f"{n} >= {sc.max_parallel_sessions} sessions")  # fmt: skip
    ran = [by[t] for t in FAILURE_SCENARIOS if t in by and by[t].status is not TestStatus.SKIPPED]
    if ran:
        rate = sum(r.passed for r in ran) / len(ran)
        gates["resilience_recovery"] = (rate >= sc.min_recovery_rate, f"{rate:.0%} >= "
                                        f"{sc.min_recovery_rate:.0%} of {len(ran)} scenarios")  # fmt: skip
    if not gates:
        return ValidatorVerdict(name, Verdict.SKIPPED, "no sync quality figure was recorded")
    details = {k: {"passed": ok, "measured": msg} for k, (ok, msg) in gates.items()}
    bad = [f"{k} ({msg})" for k, (ok, msg) in gates.items() if not ok]
    if bad:
        return ValidatorVerdict(name, Verdict.FAILED, "gates failed: " + "; ".join(bad), details)
    return ValidatorVerdict(
        name, Verdict.PASSED, "; ".join(f"{k}: {m}" for k, (_, m) in gates.items()), details
    )


def validate_phase(
    phase: MigrationPhase, results: list[TestResult], required: Iterable[str], config: TestConfig
) -> list[ValidatorVerdict]:
    perf = config.performance
    verdicts = [
        phase_validator(phase, results, required),
        duration_validator(results, perf.max_test_duration_s),
        success_rate_validator(results, perf.min_success_rate),
    ]
    if phase is MigrationPhase.SYNC_IMPROVEMENT and any(r.harness == "sync" for r in results):
        verdicts.append(sync_quality_validator(results, config))
    if config.performance_tracking:
        verdicts.append(
            performance_regression_validator(
                results, perf.baseline_file, perf.regression_threshold_pct
            )
        )
    return verdicts


__all__ = [
    "MINIMUM_CATEGORIES",
    "ValidatorVerdict",
    "Verdict",
    "duration_validator",
    "load_baseline",
    "metric_direction",
    "performance_metrics",
    "performance_regression_validator",
    "phase_validator",
    "save_baseline",
    "success_rate_validator",
    "sync_quality_validator",
    "validate_phase",
]
