"""Suite-wide guard: no test may leave a process behind.

The whole session is checked at its end; tests that start processes (tests/cluster, tests/node)
also check each test, so a leak is charged to the test that made it and is killed before it can
disturb the next one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from alys_test_framework.testing import live_children, reap_leftovers


@pytest.fixture(scope="session", autouse=True)
def private_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs made by tests record into a history of the session's own, not the user's."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


@pytest.fixture(scope="session", autouse=True)
def no_orphan_processes() -> Iterator[None]:
    yield
    left = reap_leftovers(grace_s=5.0)
    assert not left, f"tests left processes behind (now killed): {left}"


@pytest.fixture
def no_new_processes() -> Iterator[None]:
    """Per test: every process the test started has exited when it ends."""
    before = set(live_children())
    yield
    left = reap_leftovers(before, grace_s=5.0)
    assert not left, f"this test left processes behind (now killed): {left}"
