"""The interop tests run a real third-party client: selected with ``-m interop`` (their own CI
step, .ci/run) or ALYS_INTEROP=1, skipped otherwise so the default run stays short."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "interop: runs a third-party execution client (npm)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = "interop" in (config.getoption("-m") or "") or os.environ.get("ALYS_INTEROP") == "1"
    if selected:
        return
    skip = pytest.mark.skip(
        reason="interop tests run in their own step: pytest -m interop tests/interop"
    )
    for item in items:
        if "interop" in item.keywords:
            item.add_marker(skip)
