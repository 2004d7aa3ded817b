"""The actor harness on both runtimes and on each broken runtime.

alys_actors: all 29 pass. Pykka: what it can express passes, the rest is UNSUPPORTED with its
reason (never passed, never an error). Each broken runtime FAILs with the property named.
"""

from __future__ import annotations

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.harness.actor import ActorTestHarness
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.registry import HarnessRegistry
from alys_test_framework.phases import MigrationPhase
from alys_test_framework.results import TestStatus
from alys_test_framework.targets.actor_runtime import runtime_named
from alys_test_framework.targets.actor_runtime.pykka_runtime import PykkaRuntime

from . import broken_runtimes as broken
from .run import run_actor_harness, short_timeouts

#: what Pykka cannot express, by test; every other test is measured on Pykka
PYKKA_UNSUPPORTED = {
    "test_actor_supervision_tree": "supervision",
    "test_actor_state_transitions": "supervision",
    "test_panic_injection_recovery": "supervision",
    "test_supervisor_restart_validation": "supervision",
    "test_cascading_failure_prevention": "supervision",
    "test_message_load_balancing": "router",
    "test_priority_message_ordering": "priority_mailbox",
    "test_mailbox_overflow_detection": "bounded_mailbox",
    "test_backpressure_mechanisms": "bounded_mailbox",
    "test_overflow_recovery": "bounded_mailbox",
    "test_message_dropping_policies": "bounded_mailbox",
    "test_overflow_under_load": "bounded_mailbox",
    "test_cascading_overflow_prevention": "bounded_mailbox",
    "test_broadcast_messaging": "broadcast",
    "test_message_routing_chains": "router",
    "test_actor_discovery_communication": "registry",
    "test_property_critical_first": "priority_mailbox",
    "test_property_overflow_eviction": "bounded_mailbox",
    "test_property_restart_schedule": "supervision",
}


def test_all_29_methods_pass_on_alys_actors() -> None:
    results, events = run_actor_harness(TestConfig.development())
    bad = [
        (r.name, r.status.value, r.message) for r in results if r.status is not TestStatus.PASSED
    ]
    assert not bad, bad
    assert len(results) == 29
    assert [r.category for r in results] == sorted(
        (r.category for r in results), key=ActorTestHarness.categories.index
    ), "report order follows the categories tuple"
    assert all(r.metrics for r in results), "every result carries its measurements"
    types = {e.type for e in events.events}
    assert {"actor_lifecycle_summary", "actor_message_sample", "actor_restart"} <= types
    samples = events.of_type("actor_message_sample")
    assert len(samples) <= 3 * 29, "messages are sampled, not logged one by one"


def test_pykka_matrix_is_measured_or_unsupported_with_its_reason() -> None:
    results, _ = run_actor_harness(TestConfig.development(), PykkaRuntime())
    assert len(results) == 29
    by_name = {r.name: r for r in results}
    unsupported = {n for n, r in by_name.items() if r.status is TestStatus.UNSUPPORTED}
    assert unsupported == set(PYKKA_UNSUPPORTED)
    for name, capability in PYKKA_UNSUPPORTED.items():
        message = by_name[name].message
        assert capability in message and "Pykka" in message, (name, message)
    measured = [r for r in results if r.name not in PYKKA_UNSUPPORTED]
    assert len(measured) == 10
    bad = [(r.name, r.status.value, r.message) for r in measured if not r.passed]
    assert not bad, bad


def test_config_chooses_the_runtime() -> None:
    cfg = TestConfig.development()
    cfg = cfg.model_copy(
        update={"actor_system": cfg.actor_system.model_copy(update={"runtime": "pykka"})}
    )
    harness = ActorTestHarness(HarnessContext(cfg))
    assert harness.target.name == "pykka"
    assert ActorTestHarness(HarnessContext(TestConfig.development())).target.name == "alys_actors"
    with pytest.raises(ValueError, match="unknown actor runtime 'akka'"):
        runtime_named("akka")


def test_harness_is_registered_for_actor_core_and_healthy() -> None:
    import asyncio

    factories = HarnessRegistry().factories(MigrationPhase.ACTOR_CORE)
    assert ActorTestHarness in factories
    for runtime in ("alys_actors", "pykka"):
        ctx = HarnessContext(TestConfig.development())
        assert asyncio.run(ActorTestHarness(ctx, runtime_named(runtime)).health_check()) is True


@pytest.mark.parametrize("target_cls", list(broken.EXPECTED), ids=lambda c: c.name)
def test_each_broken_runtime_fails_with_the_property_named(target_cls: type) -> None:
    expected = broken.EXPECTED[target_cls]
    results, _ = run_actor_harness(short_timeouts(), target_cls(), only=list(expected))
    by_name = {r.name: r for r in results}
    assert set(by_name) == set(expected)
    for method, prop in expected.items():
        r = by_name[method]
        assert r.status is TestStatus.FAILED, (method, r.status, r.message)
        assert prop in r.message, (method, r.message)


def test_broken_targets_fail_only_where_expected_on_an_unrelated_method() -> None:
    """A broken router must not make FIFO fail: verdicts point at the broken part."""
    results, _ = run_actor_harness(
        short_timeouts(), broken.FirstWorkerRouterRuntime(), only=["test_fifo_message_ordering"]
    )
    assert results[0].status is TestStatus.PASSED, results[0].message
