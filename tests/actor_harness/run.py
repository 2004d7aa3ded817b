"""The actor harness driven by the framework's one ``run_harness``, plus the actor-only check
that no runtime thread (Pykka runs one per actor) outlives the run."""

from __future__ import annotations

import threading

from alys_test_framework.config import TestConfig
from alys_test_framework.events import EventLog
from alys_test_framework.harness.actor import ActorTestHarness
from alys_test_framework.results import TestResult
from alys_test_framework.targets.actor_runtime import ActorRuntime
from alys_test_framework.testing import run_harness


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
    events = EventLog()
    before = set(threading.enumerate())
    results = run_harness(ActorTestHarness, config, target=target, only=only, events=events)
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"actor threads left running: {left}"
    return results, events
