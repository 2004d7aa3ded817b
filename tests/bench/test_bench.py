"""The bench machinery: statistics, regression severity, a slowed build caught, bad input."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from alys_actors import handler
from alys_test_framework.bench import (
    BenchFileError,
    BenchRun,
    Severity,
    Thresholds,
    classify,
    compare,
    load_bench,
)
from alys_test_framework.bench.__main__ import main as bench_main
from alys_test_framework.bench.context import BenchContext
from alys_test_framework.bench.groups import actor as actor_group
from alys_test_framework.bench.model import CaseResult, Measurement, Target
from alys_test_framework.bench.runner import judge
from alys_test_framework.bench.stats import summarize


def test_summary_interval_holds_the_mean_and_counts_the_outlier() -> None:
    s = summarize([1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98, 1.01, 5.0])
    assert s.n == 10
    assert s.ci95_low < s.mean < s.ci95_high
    assert s.median == pytest.approx(1.005)
    assert s.outliers == 1
    with pytest.raises(ValueError, match="at least 2"):
        summarize([1.0])


@pytest.mark.parametrize(
    ("pct", "sev"),
    [(-3, Severity.NONE), (0, Severity.NONE), (9.9, Severity.MINOR), (10, Severity.MAJOR),
     (25, Severity.MAJOR), (25.1, Severity.CRITICAL)],
)  # fmt: skip
def test_severity_bands(pct: float, sev: Severity) -> None:
    assert classify(pct, Thresholds(10, 25)) is sev


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="major"):
        Thresholds(30, 20)


def _case(values: list[float], floor: list[float]) -> CaseResult:
    ratio = summarize([v / f for v, f in zip(values, floor, strict=True)])
    return CaseResult(
        group="g",
        name="c",
        unit="s/op",
        description="",
        measurements={
            "ours": Measurement(summarize(values)),
            "floor": Measurement(summarize(floor)),
        },
        floor="floor",
        basis="wall",
        ratio=ratio,
    )


def test_regressions_are_judged_on_ratios_so_a_slower_machine_is_not_a_regression() -> None:
    base = BenchRun(cases=[_case([1.0, 1.01, 0.99, 1.0], [1.0, 1.0, 1.0, 1.0])])
    slower_machine = BenchRun(cases=[_case([2.0, 2.02, 1.98, 2.0], [2.0, 2.0, 2.0, 2.0])])
    slower_code = BenchRun(cases=[_case([1.5, 1.52, 1.48, 1.5], [1.0, 1.0, 1.0, 1.0])])
    assert compare(slower_machine, base)[0].severity is Severity.NONE
    r = compare(slower_code, base)[0]
    assert r.severity is Severity.CRITICAL and r.change_pct == pytest.approx(50, abs=1)


def test_noise_is_discounted_before_a_change_counts() -> None:
    base = BenchRun(cases=[_case([1.0, 1.3, 0.7, 1.0], [1.0] * 4)])
    cur = BenchRun(cases=[_case([1.1, 1.4, 0.8, 1.1], [1.0] * 4)])
    r = compare(cur, base)[0]
    assert r.change_pct > 5 and r.severity is Severity.NONE, r


def test_a_missed_goal_is_reported_but_gates_only_when_enforced() -> None:
    slow = _case([2.0, 2.02, 1.98, 2.0], [1.0] * 4)
    slow.target = Target("ratio", 1.5, "<= 1.5x floor")
    run = BenchRun(cases=[slow])
    assert slow.verdict == "missed"
    same = compare(run, BenchRun(cases=[_case([2.0, 2.02, 1.98, 2.0], [1.0] * 4)]))
    code, why = judge(run, same)
    assert code == 0 and "1 missed (g.c)" in why, why
    code, why = judge(run, same, enforce_goals=True)
    assert code == 1 and "goals missed" in why, why
    broken = BenchRun(cases=[slow], errors=["group sync: RuntimeError: x"])
    assert judge(broken, [])[0] == 1


def test_a_machine_case_reports_its_change_but_never_fails() -> None:
    base = BenchRun(cases=[_case([1.0, 1.01, 0.99, 1.0], [1.0] * 4)])
    cur = BenchRun(cases=[_case([1.5, 1.52, 1.48, 1.5], [1.0] * 4)])
    cur.cases[0].gating = False
    r = compare(cur, base)[0]
    assert r.severity is Severity.CRITICAL and not r.fails
    assert judge(cur, [r])[0] == 0
    cur.cases[0].gating = True
    r = compare(cur, base)[0]
    code, why = judge(cur, [r])
    assert r.fails and code == 1 and "g.c critical" in why, why


def test_calibration_counts_cpu_so_a_descheduled_probe_cannot_shrink_the_loops() -> None:
    from alys_test_framework.bench.sampler import Contender, _calibrate

    calls = [0]

    def op(loops: int) -> None:
        calls[0] += 1
        if calls[0] == 2:  # the probe at 8 loops: the process "loses its core" for 60 ms
            time.sleep(0.06)
        end = time.process_time() + loops * 20e-6
        while time.process_time() < end:
            pass

    loops = asyncio.run(_calibrate(Contender("x", op), 0.01, False))
    assert loops >= 256, loops  # 10 ms of CPU at 20 us per op; the wall time said 8


class SlowSummer(actor_group.Summer):
    """A deliberately slowed build: 0.5 ms more per message."""

    @handler(int)
    async def on_int(self, n: int) -> None:
        end = time.perf_counter() + 0.0005
        while time.perf_counter() < end:
            pass
        self.total += n


def _message_processing(ctx: BenchContext) -> BenchRun:
    cases = asyncio.run(actor_group.message_processing(ctx, with_pykka=False))
    return BenchRun(cases=[c for c in cases if c.name == "message_processing"])


def test_a_slowed_build_is_critical_against_a_saved_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unchanged build judged against its own baseline is a measurement on a quiet machine
    # (README: three runs in a row), not a unit test: with 3 short samples under load its noise
    # is not what this test is about. 0.5 ms per message is hundreds of times the floor.
    ctx = BenchContext(quick=True, progress=lambda _: None, samples_override=3, min_sample_s=0.01)
    base_file = tmp_path / "baseline.json"
    _message_processing(ctx).write(base_file)
    baseline = load_bench(base_file)
    monkeypatch.setattr(actor_group, "Summer", SlowSummer)
    slowed = _message_processing(ctx)
    regressions = compare(slowed, baseline)
    r = regressions[0]
    assert r.case == "actor.message_processing"
    assert r.severity is Severity.CRITICAL and r.fails, r
    assert judge(slowed, regressions)[0] == 1  # what `alys-test bench --baseline` exits with


def test_bad_bench_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "events.jsonl"
    bad.write_text(json.dumps({"type": "x"}) + "\n")
    assert bench_main(["--baseline", str(bad), "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a bench.json" in err[0]
    assert bench_main(["--baseline", str(tmp_path / "missing.json")]) == 2
    with pytest.raises(BenchFileError, match="no such file"):
        load_bench(tmp_path / "missing.json")


def test_the_run_validator_uses_the_same_severity_scale(tmp_path: Path) -> None:
    from alys_test_framework.results import TestResult, TestStatus, Verdict
    from alys_test_framework.validators import performance_regression_validator

    def results(throughput: float) -> list[TestResult]:
        return [
            TestResult(
                "t", "h", "c", TestStatus.PASSED, metrics={"throughput_msgs_per_s": throughput}
            )
        ]

    base = tmp_path / "baseline.json"
    base.write_text(
        json.dumps(
            {"metrics": {"h.t.throughput_msgs_per_s": {"value": 1000.0, "better": "higher"}}}
        )
    )
    minor = performance_regression_validator(results(950.0), base, 10.0)
    assert minor.status is Verdict.PASSED and "minor" in minor.message
    assert minor.details["regressions"][0]["severity"] == "minor"
    critical = performance_regression_validator(results(600.0), base, 10.0)
    assert critical.status is Verdict.FAILED
    assert critical.details["regressions"][0]["severity"] == "critical"
