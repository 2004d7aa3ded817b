"""Run the actor harness through its lifecycle (until alys_test_framework.testing has one)."""

from __future__ import annotations

import asyncio
import threading

from alys_test_framework.config import TestConfig
from alys_test_framework.events import EventLog
from alys_test_framework.harness.actor import ActorTestHarness
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.results import TestResult
from alys_test_framework.targets.actor_runtime import ActorRuntime


def short_timeouts() -> TestConfig:
    """Development scale with a 1 s bound per wait: broken runtimes make the harness wait for
    things that never happen."""
    cfg = TestConfig.development()
    return cfg.model_copy(
        update={"actor_system": cfg.actor_system.model_copy(update={"message_timeout_ms": 1000})}
    )


def run_actor_harness(
    config: TestConfig, target: ActorRuntime | None = None, only: list[str] | None = None
) -> tuple[list[TestResult], EventLog]:
    """initialize, run, shutdown; then no actor thread may be left running."""
    events = EventLog()
    harness = ActorTestHarness(HarnessContext(config, events=events), target)

    async def go() -> list[TestResult]:
        await harness.initialize()
        try:
            return await harness.run_tests(only=only)
        finally:
            await harness.shutdown()

    before = set(threading.enumerate())
    results = asyncio.run(go())
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"actor threads left running: {left}"
    return results, events
