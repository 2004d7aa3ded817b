"""The CLI as a user meets it: real subprocesses, exit codes and one-line errors."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).parent


def cli(*args, cwd=None, env=None):
    cwd = cwd or os.getcwd()
    full_env = {**os.environ, "PYTHONPATH": str(HERE), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "alys_test_framework.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )


def test_run_foundation_writes_replayable_reports(tmp_path):
    out = tmp_path / "reports"
    p = cli("run", "--phase", "foundation", "--report-dir", str(out), "--seed", "5")
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 5 and report["summary"]["status"] == "passed"
    ET.parse(out / "junit.xml")
    replay = cli("replay", str(out / "events.jsonl"))
    assert replay.returncode == 0
    assert json.loads(replay.stdout) == report["summary"]


def one_line_error(p, needle):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default report dir must not be created for bad input
    one_line_error(cli("run", "--phase", "warp-drive"), "unknown phase 'warp-drive'")
    one_line_error(cli("run", "--no-such-flag"), "--no-such-flag")
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nfailure_rate = 3\n")
    one_line_error(cli("run", "--config", str(bad)), "network.failure_rate")
    one_line_error(cli("config", "validate", str(bad)), "allowed range [0, 1]")
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_line_error(
        cli("run", "--phase", "foundation", "--report-dir", str(blocker / "sub")), "not writable"
    )
    one_line_error(cli("run", "--preset", "turbo"), "unknown preset")
    one_line_error(cli("replay", str(tmp_path / "nothing.jsonl")), "no such event log")
    plugin = tmp_path / "plugin.toml"
    plugin.write_text('plugins = ["no_such_plugin_module:register"]\n')
    one_line_error(cli("run", "--config", str(plugin)), "no_such_plugin_module")
    assert not (tmp_path / "alys-test-reports").exists()


def test_config_show_and_validate(tmp_path):
    p = cli("config", "show", "--preset", "ci_cd")
    assert p.returncode == 0 and "parallel_tests = true" in p.stdout
    good = tmp_path / "good.toml"
    good.write_text(p.stdout)
    assert cli("config", "validate", str(good)).returncode == 0


def test_failing_phase_exits_nonzero_and_names_it(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('plugins = ["foundation_fakes:register_failing"]\n')
    p = cli(
        "run",
        "--config",
        str(cfg),
        "--phase",
        "actor-core",
        "--report-dir",
        str(tmp_path / "r"),
        "-q",
    )
    assert p.returncode == 1
    assert (
        "a two-letter string has three letters"
        in json.loads((tmp_path / "r" / "report.json").read_text())["phases"][0]["tests"][1][
            "message"
        ]
    )


def test_ctrl_c_exits_130_with_partial_reports(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('plugins = ["foundation_fakes:register_interrupting"]\n')
    out = tmp_path / "r"
    p = cli("run", "--config", str(cfg), "--phase", "actor-core", "--report-dir", str(out))
    assert p.returncode == 130, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted"
    ET.parse(out / "junit.xml")
    assert (out / "events.jsonl").read_text().count("run_interrupted") == 1


def test_baseline_save(tmp_path):
    out = tmp_path / "r"
    assert cli("run", "--phase", "foundation", "--report-dir", str(out), "-q").returncode == 0
    p = cli("baseline", "save", str(out / "report.json"), "--out", str(tmp_path / "b.json"))
    assert p.returncode == 0, p.stderr
    assert (
        json.loads((tmp_path / "b.json").read_text())["source_run"]
        == json.loads((out / "report.json").read_text())["run_id"]
    )
