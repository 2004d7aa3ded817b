"""Small harnesses with known outcomes for testing the framework itself."""

from __future__ import annotations

import asyncio
import os
import signal

from alys_test_framework.harness.base import BaseHarness, Outcome, harness_test


class PassingHarness(BaseHarness):
    name = "passing"
    categories = ("alpha",)

    @harness_test("alpha")
    async def test_measures_something(self, out: Outcome) -> None:
        value = sum(range(100))
        out.record(ops_per_s=1000.0, p50_ms=1.0)
        out.expect(value == 4950, "arithmetic works", str(value))


class FailingHarness(BaseHarness):
    name = "failing"
    categories = ("alpha", "beta")

    @harness_test("alpha")
    async def test_ok(self, out: Outcome) -> None:
        out.expect(len("ab") == 2, "len works")

    @harness_test("beta")
    async def test_broken(self, out: Outcome) -> None:
        out.expect(len("ab") == 3, "a two-letter string has three letters", "len('ab') == 2")


class InterruptingHarness(BaseHarness):
    """Sends itself SIGINT mid-test, as a user pressing Ctrl-C would."""

    name = "interrupting"
    categories = ("alpha",)
    shut_down = False

    @harness_test("alpha")
    async def test_first(self, out: Outcome) -> None:
        out.expect(True is not False, "runs before the interrupt")

    @harness_test("alpha")
    async def test_interrupted(self, out: Outcome) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)  # cancelled by the SIGINT handler long before this ends
        out.expect(False, "never reached")

    async def shutdown(self) -> None:
        type(self).shut_down = True


def register_failing(registry) -> None:  # plugin hook used by the CLI tests
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [FailingHarness])


def register_interrupting(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [InterruptingHarness])
