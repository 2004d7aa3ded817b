"""Suite-wide guard: no test may leave a process behind.

The whole session is checked at its end; tests that start processes (tests/cluster, tests/node)
also check each test, so a leak is charged to the test that made it and is killed before it can
disturb the next one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alys_test_framework.testing import live_children, reap_leftovers


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
