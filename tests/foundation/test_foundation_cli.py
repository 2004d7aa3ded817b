"""The CLI as a user meets it: real subprocesses, exit codes and one-line errors."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]  # plugins below are named tests.foundation.…
FAKES = "tests.foundation.foundation_fakes"


def cli(*args, cwd=None, env=None):
    cwd = cwd or os.getcwd()
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "alys_test_framework.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )


def plugin_config(tmp_path, hook):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'plugins = ["{FAKES}:{hook}"]\n')
    return cfg


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
    cfg = plugin_config(tmp_path, "register_failing")
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


@pytest.mark.parametrize(
    ("hook", "code", "signame"),
    [("register_interrupting", 130, "SIGINT"), ("register_terminated", 143, "SIGTERM")],
)
def test_signal_exits_128_plus_n_with_partial_reports(tmp_path, hook, code, signame):
    """SIGTERM (a CI runner cancelling) leaves the same evidence as Ctrl-C (issue 14 D7)."""
    cfg = plugin_config(tmp_path, hook)
    out = tmp_path / "r"
    p = cli("run", "--config", str(cfg), "--phase", "actor-core", "--report-dir", str(out))
    assert p.returncode == code, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted" and report["signal"] == signame
    assert [t["name"] for t in report["phases"][0]["tests"]] == ["test_first"]
    ET.parse(out / "junit.xml")
    events = (out / "events.jsonl").read_text()
    assert events.count("run_interrupted") == 1 and f'"signal":"{signame}"' in events


def test_sigterm_from_outside_writes_partial_reports(tmp_path):
    """The runner's SIGTERM comes from another process, mid-test, as in CI."""
    import time

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'plugins = ["{FAKES}:register_slow"]\n')
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, "-m", "alys_test_framework.cli", "run", "--config", str(cfg)]
        + ["--phase", "actor-core", "--report-dir", str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        events = out / "events.jsonl"
        while time.monotonic() < deadline:  # polls the real condition: the slow test started
            if events.exists() and "test_slow" in events.read_text():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("test_slow never started")
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stdout + stderr
    assert json.loads((out / "report.json").read_text())["signal"] == "SIGTERM"


def test_unsupported_fails_the_run_and_is_counted_apart(tmp_path):
    cfg = plugin_config(tmp_path, "register_unsupporting")
    out = tmp_path / "r"
    p = cli("run", "--config", str(cfg), "--phase", "actor-core", "--report-dir", str(out))
    assert p.returncode == 1, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["tests"]["unsupported"] == 1
    assert report["summary"]["tests"]["passed"] == 1
    assert "unsupported by the target: test_needs_priorities" in report["phases"][0]["message"]
    assert "unsup" in p.stdout
    case = ET.parse(out / "junit.xml").find(".//testcase[@name='test_needs_priorities']")
    assert case is not None
    assert case.find("skipped").get("message").startswith("unsupported: ")
    replay = cli("replay", str(out / "events.jsonl"))
    assert json.loads(replay.stdout) == report["summary"]


def in_process(capsys, *args):
    """main() in this process: the same code path as the console script, without a Python
    start-up per case (the subprocess tests above cover the real entry point)."""
    from alys_test_framework.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_plugin_failures_are_one_line_exit_2(tmp_path, capsys, monkeypatch):
    """Issue 14 D10: a plugin that fails to import is the user's input, not a traceback."""
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("raise RuntimeError('plugin module exploded')\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text('plugins = ["broken_plugin:register"]\n')
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"}
    one_line_error(cli("run", "--config", str(cfg), env=env), "plugin module exploded")
    monkeypatch.syspath_prepend(str(tmp_path))
    one_line_error(in_process(capsys, "run", "--config", str(cfg)), "plugin module exploded")
    cfg.write_text(f'plugins = ["{FAKES}:no_such_hook"]\n')
    one_line_error(in_process(capsys, "run", "--config", str(cfg)), "no_such_hook")
    cfg.write_text(f'plugins = ["{FAKES}:FAKES_RAISES"]\n')
    one_line_error(in_process(capsys, "run", "--config", str(cfg)), "failed while registering")
    assert not (tmp_path / "alys-test-reports").exists()


def test_replay_of_a_non_event_file_is_one_line_exit_2(tmp_path, capsys):
    """Issue 14 D12: a wrong file is never summarised as an empty run."""
    for name, content in [
        ("notes.txt", "hello world\n"),
        ("list.jsonl", "[1, 2, 3]\n"),
        ("config.toml", "seed = 3\n[network]\nfailure_rate = 0.1\n"),
        ("objects.jsonl", '{"a": 1}\n{"b": 2}\n'),
        ("empty.jsonl", ""),
    ]:
        f = tmp_path / name
        f.write_text(content)
        one_line_error(in_process(capsys, "replay", str(f)), "not")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    one_line_error(cli("replay", str(binary)), "not UTF-8")  # and once through the real script


def test_bare_groups_print_help_and_exit_0(capsys):
    for args in ([], ["config"], ["baseline"]):
        p = in_process(capsys, *args)
        assert p.returncode == 0, (args, p.stderr)
        assert "Usage" in p.stdout and "Traceback" not in p.stderr
    assert "Usage" in cli().stdout


def test_click_usage_errors_are_one_line(tmp_path, capsys):
    one_line_error(in_process(capsys, "config", "validate"), "Missing argument")
    one_line_error(in_process(capsys, "run", "--seed", "many"), "--seed")
    one_line_error(in_process(capsys, "no-such-command"), "no-such-command")
    one_line_error(in_process(capsys, "history", "--last", "0"), "--last")


def test_baseline_save(tmp_path):
    out = tmp_path / "r"
    assert cli("run", "--phase", "foundation", "--report-dir", str(out), "-q").returncode == 0
    p = cli("baseline", "save", str(out / "report.json"), "--out", str(tmp_path / "b.json"))
    assert p.returncode == 0, p.stderr
    assert (
        json.loads((tmp_path / "b.json").read_text())["source_run"]
        == json.loads((out / "report.json").read_text())["run_id"]
    )
