"""Reports of real runs, shared by the reporting tests.

Runs are made by the `alys-test` CLI in a subprocess, as a user makes them (and because the
browser tests' playwright owns this process's event loop).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_history(tmp_path, monkeypatch):
    """Runs in these tests record into a temp history, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def alys_test(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ALYS_TEST_REPORTING__HISTORY_DB": str(db)}
    p = subprocess.run(
        [sys.executable, "-m", "alys_test_framework.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture(scope="session")
def foundation_run(tmp_path_factory):
    """`alys-test run --phase foundation --report-dir D`: D and its history database."""
    root = tmp_path_factory.mktemp("foundation-run")
    db = root / "history.sqlite"
    alys_test("run", "--phase", "foundation", "--report-dir", str(root / "run"), "-q", db=db)
    return root / "run", db


@pytest.fixture(scope="session")
def failing_run(tmp_path_factory):
    """A run with a failed and an unsupported test (exit 1)."""
    root = tmp_path_factory.mktemp("failing-run")
    cfg = root / "c.toml"
    hook = "tests.foundation.foundation_fakes:register_failing_and_unsupporting"
    cfg.write_text(f'plugins = ["{hook}"]\n')
    p = alys_test(
        "run",
        "--config",
        str(cfg),
        "--phase",
        "actor-core",
        "--report-dir",
        str(root / "run"),
        "-q",
        db=root / "history.sqlite",
        check=False,
    )
    assert p.returncode == 1, p.stdout + p.stderr
    return root / "run"
