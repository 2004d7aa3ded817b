"""The actor harness on the real runtime (all 24 pass) and on each broken runtime (named FAILs)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.events import EventLog
from alys_test_framework.harness.actor import ActorTestHarness
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.registry import HarnessRegistry
from alys_test_framework.phases import MigrationPhase
from alys_test_framework.results import TestStatus


def _load_broken():
    """Load broken_runtimes.py under a unique module name (test basenames share one namespace)."""
    name = "actor_harness_broken_runtimes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("broken_runtimes.py")
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


broken = _load_broken()


def _config() -> TestConfig:
    cfg = TestConfig.development()
    # a short per-wait bound: broken runtimes make the harness wait for things that never happen
    return cfg.model_copy(
        update={"actor_system": cfg.actor_system.model_copy(update={"message_timeout_ms": 1000})}
    )


def _run(target=None, only=None, config=None):
    events = EventLog()
    ctx = HarnessContext(config or _config(), events=events)
    harness = ActorTestHarness(ctx, target)

    async def go():
        await harness.initialize()
        try:
            return await harness.run_tests(only=only)
        finally:
            await harness.shutdown()

    return asyncio.run(go()), events


def test_all_24_methods_pass_on_the_real_runtime() -> None:
    results, events = _run(config=TestConfig.development())
    bad = [
        (r.name, r.status.value, r.message) for r in results if r.status is not TestStatus.PASSED
    ]
    assert not bad, bad
    assert len(results) == 24
    assert {r.category for r in results} == set(ActorTestHarness.categories)
    assert all(r.metrics for r in results), "every result carries its measurements"
    types = {e.type for e in events.events}
    assert {"actor_lifecycle_summary", "actor_message_sample", "actor_restart"} <= types
    samples = events.of_type("actor_message_sample")
    assert len(samples) <= 3 * 24, "messages are sampled, not logged one by one"


def test_harness_is_registered_for_actor_core_and_healthy() -> None:
    factories = HarnessRegistry().factories(MigrationPhase.ACTOR_CORE)
    assert ActorTestHarness in factories
    ctx = HarnessContext(TestConfig.development())
    assert asyncio.run(ActorTestHarness(ctx).health_check()) is True


CASES = [
    (cls, method, prop)
    for cls, methods in broken.EXPECTED.items()
    for method, prop in methods.items()
]


@pytest.mark.parametrize("target_cls", list(broken.EXPECTED), ids=lambda c: c.name)
def test_each_broken_runtime_fails_with_the_property_named(target_cls) -> None:
    expected = broken.EXPECTED[target_cls]
    results, _ = _run(target_cls(), only=list(expected))
    by_name = {r.name: r for r in results}
    assert set(by_name) == set(expected)
    for method, prop in expected.items():
        r = by_name[method]
        assert r.status is TestStatus.FAILED, (method, r.status, r.message)
        assert prop in r.message, (method, r.message)


def test_broken_targets_fail_only_where_expected_on_an_unrelated_method() -> None:
    """A broken router must not make FIFO fail: verdicts point at the broken part."""
    results, _ = _run(broken.FirstWorkerRouterRuntime(), only=["test_fifo_message_ordering"])
    assert results[0].status is TestStatus.PASSED, results[0].message
