"""coverage_enabled: the targets' lines measured in the framework and in its subprocesses."""

from __future__ import annotations

import json

from .conftest import alys_test


def run_with_coverage(tmp_path, threshold):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'plugins = ["tests.reporting.coverage_harness:register"]\n'
        "coverage_enabled = true\n"
        "[reporting]\n"
        'coverage_source = ["tests.reporting.covered_target"]\n'
        f"coverage_threshold_pct = {threshold}\n"
    )
    out = tmp_path / "r"
    p = alys_test(
        "run",
        "--config",
        str(cfg),
        "--phase",
        "actor-core",
        "--report-dir",
        str(out),
        db=tmp_path / "h.sqlite",
        check=False,
    )
    return p, out


def test_framework_and_subprocess_lines_are_measured(tmp_path):
    p, out = run_with_coverage(tmp_path, 50)
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    cov = report["coverage"]
    (target,) = [f for f in cov["files"] if f["path"].endswith("covered_target.py")]
    lines = open(__file__.replace("test_coverage.py", "covered_target.py")).read().splitlines()
    never = next(i for i, line in enumerate(lines, 1) if "def never_called" in line)
    sub = next(i for i, line in enumerate(lines, 1) if "return sum(range(20))" in line)
    missing = ",".join(target["missing"])
    assert str(never + 1) in missing or f"{never + 1}-" in missing, target["missing"]
    # the line only the subprocess runs is covered: child processes are measured
    assert not any(
        m == str(sub) or (("-" in m) and int(m.split("-")[0]) <= sub <= int(m.split("-")[1]))
        for m in target["missing"]
    ), target["missing"]
    assert report["gates"][0]["validator"] == "CoverageValidator"
    assert report["gates"][0]["status"] == "passed"
    for name in ("coverage.json", "coverage.lcov", "coverage/index.html"):
        assert (out / name).exists(), name
    assert "CoverageValidator: passed" in p.stdout


def test_coverage_below_the_threshold_fails_the_run(tmp_path):
    p, out = run_with_coverage(tmp_path, 100)
    assert p.returncode == 1, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and report["summary"]["gates"] == {
        "CoverageValidator": "failed"
    }
    assert "FAILED CoverageValidator: line coverage" in p.stderr
    replay = alys_test("replay", str(out / "events.jsonl"), db=tmp_path / "h.sqlite")
    assert json.loads(replay.stdout) == report["summary"]
