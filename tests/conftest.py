"""Suite-wide guard: no test may leave a process behind."""

from __future__ import annotations

import psutil
import pytest


@pytest.fixture(scope="session", autouse=True)
def no_orphan_processes():
    yield
    leftovers = []
    for child in psutil.Process().children(recursive=True):
        try:
            child.wait(timeout=5)  # give processes that are already exiting a moment
        except psutil.TimeoutExpired:
            leftovers.append(f"{child.pid} {' '.join(child.cmdline())[:120]}")
            child.kill()
        except psutil.NoSuchProcess:
            pass
    assert not leftovers, f"tests left processes behind: {leftovers}"
