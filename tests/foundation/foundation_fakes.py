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
    signal_to_send = signal.SIGINT

    @harness_test("alpha")
    async def test_first(self, out: Outcome) -> None:
        out.expect(True is not False, "runs before the interrupt")

    @harness_test("alpha")
    async def test_interrupted(self, out: Outcome) -> None:
        os.kill(os.getpid(), self.signal_to_send)
        await asyncio.sleep(30)  # cancelled by the SIGINT handler long before this ends
        out.fail("never reached")

    async def shutdown(self) -> None:
        type(self).shut_down = True


def register_failing(registry) -> None:  # plugin hook used by the CLI tests
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [FailingHarness])


def register_interrupting(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [InterruptingHarness])


class TerminatedHarness(InterruptingHarness):
    """Sends itself SIGTERM mid-test, as a CI runner cancelling the job does."""

    name = "terminated"
    signal_to_send = signal.SIGTERM


def register_terminated(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [TerminatedHarness])


class UnsupportingHarness(BaseHarness):
    """A target lacking a capability: one test measured, one unsupported."""

    name = "unsupporting"
    categories = ("alpha",)

    @harness_test("alpha")
    async def test_measured(self, out: Outcome) -> None:
        out.expect(sum(range(4)) == 6, "arithmetic works")

    @harness_test("alpha")
    async def test_needs_priorities(self, out: Outcome) -> None:
        out.unsupported("the runtime has no priority mailboxes")


def register_unsupporting(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [UnsupportingHarness])


def FAKES_RAISES(registry) -> None:
    raise ValueError("this hook is broken")


class SlowHarness(BaseHarness):
    """A test that runs until something outside stops the run."""

    name = "slow"
    categories = ("alpha",)

    @harness_test("alpha")
    async def test_slow(self, out: Outcome) -> None:
        await asyncio.sleep(60)
        out.fail("never reached: the run should have been stopped")


def register_slow(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [SlowHarness])


def register_failing_and_unsupporting(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [FailingHarness, UnsupportingHarness])


class CrashingHarness(BaseHarness):
    """Kills its own process mid-test, with an exit code `alys-test run` never uses."""

    name = "crashing"
    categories = ("alpha",)

    @harness_test("alpha")
    async def test_crash(self, out: Outcome) -> None:
        os._exit(3)


def register_crashing(registry) -> None:
    from alys_test_framework.phases import MigrationPhase

    registry.replace(MigrationPhase.ACTOR_CORE, [CrashingHarness])
