"""Which code a run judged: the commit recorded in report.json and the run history."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def commit_under_test() -> str:
    """$ALYS_TEST_COMMIT, else the source checkout's HEAD, else 'unknown' (an installed wheel)."""
    env = os.environ.get("ALYS_TEST_COMMIT")
    if env:
        return env
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
