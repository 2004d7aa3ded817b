"""A harness that drives covered_target in process and as a subprocess (a node's stand-in)."""

from __future__ import annotations

import asyncio
import sys

from alys_test_framework.harness.base import BaseHarness, Outcome, harness_test
from alys_test_framework.phases import MigrationPhase


class CoverageProbeHarness(BaseHarness):
    name = "coverage_probe"
    categories = ("lifecycle", "recovery")

    @harness_test("lifecycle")
    async def test_in_process(self, out: Outcome) -> None:
        from tests.reporting import covered_target

        out.expect(covered_target.in_process() == 45, "in-process call works")

    @harness_test("recovery")
    async def test_subprocess(self, out: Outcome) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.reporting.covered_target"
        )
        out.expect(await proc.wait() == 0, "the subprocess ran the target")


def register(registry) -> None:
    registry.replace(MigrationPhase.ACTOR_CORE, [CoverageProbeHarness])
