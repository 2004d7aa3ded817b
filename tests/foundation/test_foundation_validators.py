import json

from alys_test_framework.phases import MigrationPhase as P
from alys_test_framework.results import TestResult, TestStatus
from alys_test_framework.validators import (
    Verdict,
    duration_validator,
    metric_direction,
    performance_regression_validator,
    phase_validator,
    save_baseline,
    success_rate_validator,
)


def r(name, cat="a", status=TestStatus.PASSED, dur=0.1, **metrics):
    return TestResult(name, "h", cat, status, dur, "", metrics)


def test_foundation_needs_zero_failures():
    assert phase_validator(P.FOUNDATION, [r("x")], []).status is Verdict.PASSED
    v = phase_validator(P.FOUNDATION, [r("x"), r("y", status=TestStatus.ERROR)], [])
    assert v.status is Verdict.FAILED and "y" in v.message
    assert phase_validator(P.FOUNDATION, [], []).status is Verdict.FAILED


def test_category_presence_and_passing():
    results = [r("a1", "lifecycle"), r("r1", "recovery"), r("c1", "concurrency", TestStatus.FAILED)]
    v = phase_validator(P.ACTOR_CORE, results, ["lifecycle", "recovery", "concurrency", "ordering"])
    assert v.status is Verdict.FAILED
    assert v.details["missing"] == ["ordering"] and v.details["failing"] == {"concurrency": ["c1"]}
    all_skipped = [r("a1", "lifecycle"), r("r1", "recovery", TestStatus.SKIPPED)]
    assert phase_validator(P.ACTOR_CORE, all_skipped, []).status is Verdict.FAILED


def test_duration_and_success_rate():
    assert duration_validator([r("x", dur=301)], 300).status is Verdict.FAILED
    assert duration_validator([r("x", dur=299)], 300).status is Verdict.PASSED
    results = [r(str(i)) for i in range(19)] + [r("bad", status=TestStatus.FAILED)]
    assert success_rate_validator(results, 0.95).status is Verdict.PASSED
    assert success_rate_validator(results[1:], 0.95).status is Verdict.FAILED


def test_metric_direction():
    assert metric_direction("msgs_per_s") == "higher"
    assert metric_direction("p99_ms") == "lower"
    assert metric_direction("blocks") is None


def test_performance_regression_against_saved_baseline(tmp_path):
    report = {
        "run_id": "r1",
        "phases": [{"tests": [r("t", msgs_per_s=1000.0, p99_ms=2.0).to_dict()]}],
    }
    path = tmp_path / "baseline.json"
    assert save_baseline(report, path) == 2
    assert json.loads(path.read_text())["metrics"]["h.t.msgs_per_s"]["better"] == "higher"
    same = [r("t", msgs_per_s=900.0, p99_ms=2.2)]  # 10% worse: within 15%
    assert performance_regression_validator(same, path, 15).status is Verdict.PASSED
    slower = [r("t", msgs_per_s=800.0, p99_ms=2.0)]  # 20% fewer msgs/s
    v = performance_regression_validator(slower, path, 15)
    assert v.status is Verdict.FAILED and "h.t.msgs_per_s" in v.message
    laggy = [r("t", msgs_per_s=1000.0, p99_ms=3.0)]  # 50% higher latency
    assert performance_regression_validator(laggy, path, 15).status is Verdict.FAILED
    assert performance_regression_validator(same, None, 15).status is Verdict.SKIPPED
    assert (
        performance_regression_validator(same, tmp_path / "none.json", 15).status is Verdict.SKIPPED
    )
