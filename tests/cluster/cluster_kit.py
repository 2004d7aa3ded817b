"""Shared by the cluster harness tests: run a harness through its whole lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psutil

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.results import TestResult


def run_harness(
    harness_cls: type,
    cfg: TestConfig,
    tmp_path: Path,
    target: list[str] | None,
    only: list[str] | None,
) -> list[TestResult]:
    """health check, initialize, run, shutdown; then no node process may be left."""

    async def main() -> list[TestResult]:
        h = harness_cls(HarnessContext(cfg, workdir=tmp_path), target=target)
        try:
            assert await h.health_check()
            await h.initialize()
            return await h.run_tests(only=only)
        finally:
            await h.shutdown()

    results = asyncio.run(main())
    assert not [p for p in psutil.Process().children(recursive=True) if p.is_running()]
    return results
