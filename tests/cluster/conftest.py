"""Every cluster test is checked for processes it left behind (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _guard(no_new_processes: None) -> None:
    return None
