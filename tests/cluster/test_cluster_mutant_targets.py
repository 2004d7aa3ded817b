"""Broken targets made from the mutation catalogue (tools/mutants): a copy of src/ with one
mutant applied, and the harness test that must catch it run on that copy through the CLI, as
the mutation self-check does. The failure must name the rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "mutants"))
from catalogue import MUTANTS  # noqa: E402


def _run_mutated(tmp_path: Path, mutant: str, test: str) -> list[dict]:
    [m] = [x for x in MUTANTS if x.id == mutant]
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    path = src / m.file
    text = path.read_text()
    assert text.count(m.find) == 1, f"{mutant} no longer applies"
    path.write_text(text.replace(m.find, m.replace, 1))
    env = dict(os.environ, PYTHONPATH=str(src))
    env.pop("ALYS_TEST_NETWORK__NODE_COMMAND", None)
    report = tmp_path / "report"
    cmd = [sys.executable, "-m", "alys_test_framework.cli", "run", "--phase", "sync-improvement",
           "--preset", "development", "--fail-fast", "--only", test, "--report-dir", str(report),
           "-q"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=600)
    assert proc.returncode == 1, proc.stdout.decode()[-2000:]
    data = json.loads(next(report.rglob("report.json")).read_text())
    return [t for ph in data["phases"] for t in ph["tests"]]


@pytest.mark.parametrize(
    ("mutant", "test", "rule"),
    [
        ("gossip-tip-only", "test_batch_announcement", "[G1]"),
        pytest.param("gossip-fanout-1", "test_byzantine_catalogue", "[G1]", marks=pytest.mark.slow),
        pytest.param(
            "gossip-gap-ignored", "test_byzantine_catalogue", "[G3]", marks=pytest.mark.slow
        ),
    ],
)
def test_a_mutant_fails_the_test_that_should_catch_it(
    tmp_path: Path, mutant: str, test: str, rule: str
) -> None:
    [t] = [x for x in _run_mutated(tmp_path, mutant, test) if x["name"] == test]
    assert t["status"] == "failed", t
    assert rule in t["message"], t["message"]
