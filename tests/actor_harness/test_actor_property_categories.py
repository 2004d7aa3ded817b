"""The generated-property categories (ordering_properties, supervision_properties): each
broken runtime FAILs them with a shrunk counterexample, a replay token and a replay command,
and replaying the token runs exactly that case again (what ``alys-test run --reproduce`` does).
"""

from __future__ import annotations

import pytest

from alys_test_framework.generators.actors import SupervisionCase
from alys_test_framework.harness.actor.kit.mailbox_model import ACCEPTED, DROPPED, REFUSED, predict
from alys_test_framework.harness.actor.supervision_properties import expected_after
from alys_test_framework.properties import ReplayToken, replaying
from alys_test_framework.results import TestResult, TestStatus
from alys_test_framework.targets.actor_runtime import Overflow, Priority, Strategy

from . import broken_runtimes as broken
from .run import run_actor_harness, short_timeouts

#: broken runtime -> {property test: words its failure names}
CAUGHT: dict[type, dict[str, str]] = {
    broken.ReorderingRuntime: {
        "test_property_fifo_within_priority": "FIFO within a priority",
        "test_property_per_sender_sequence": "per-sender sequence numbering",
    },
    broken.PriorityBlindRuntime: {
        "test_property_critical_first": "critical first",
        "test_property_overflow_eviction": "overflow policy eviction rule",
    },
    broken.UnboundedMailboxRuntime: {
        "test_property_overflow_eviction": "overflow policy eviction rule",
    },
    broken.LifoInboxPykkaRuntime: {
        "test_property_fifo_within_priority": "FIFO within a priority",
        "test_property_per_sender_sequence": "per-sender sequence numbering",
    },
    broken.NeverRestartRuntime: {"test_property_restart_schedule": "restarts follow strategy"},
    broken.UnlimitedRestartRuntime: {"test_property_restart_schedule": "restarts follow strategy"},
    broken.NoBackoffRuntime: {"test_property_restart_schedule": "restarts follow strategy"},
    broken.OneForOneOnlyRuntime: {"test_property_restart_schedule": "restarts follow strategy"},
}


def _assert_reported(r: TestResult, words: str) -> None:
    assert r.status is TestStatus.FAILED, (r.name, r.status, r.message)
    assert words in r.message and "shrunk counterexample" in r.message, r.message
    assert r.metrics["counterexample"] and r.metrics["reproduce_failure"].startswith(
        "@reproduce_failure("
    )
    token = r.metrics["replay_token"]
    ReplayToken.parse(token)
    command = r.metrics["replay_command"]  # short_timeouts() is no preset: no --preset
    assert (
        command == f"alys-test run --phase actor-core --only {r.name} --seed 0 --reproduce {token}"
    )
    assert f"replay: {r.metrics['replay_command']}" in r.message


@pytest.mark.parametrize("target_cls", list(CAUGHT), ids=lambda c: c.name)
def test_broken_runtime_fails_the_property_with_a_shrunk_replayable_case(target_cls: type) -> None:
    expected = CAUGHT[target_cls]
    results, _ = run_actor_harness(short_timeouts(), target_cls(), only=list(expected))
    by_name = {r.name: r for r in results}
    assert set(by_name) == set(expected)
    for name, words in expected.items():
        _assert_reported(by_name[name], words)
    # replaying the first one's token runs exactly its shrunk case, and it fails the same way
    name = next(iter(expected))
    first = by_name[name]
    with replaying(first.metrics["replay_token"]):
        again, _ = run_actor_harness(short_timeouts(), target_cls(), only=[name])
    (r,) = again
    assert r.status is TestStatus.FAILED, r.message
    assert r.metrics["replayed"] is True and r.metrics["examples"] == 1
    assert r.metrics["counterexample"] == first.metrics["counterexample"]
    assert r.message.split(" (shrunk")[0] == first.message.split(" (shrunk")[0]


def test_a_boundary_case_the_generator_misses_fails_the_property_by_name() -> None:
    """The fixed boundary cases run on every run: a drop_oldest mailbox that evicts a more
    urgent message fails the overflow property on the boundary case, named as such."""
    (r,), _ = run_actor_harness(
        short_timeouts(), broken.UrgentEvictingRuntime(), only=["test_property_overflow_eviction"]
    )
    assert r.status is TestStatus.FAILED, r.message
    assert r.message.startswith("overflow policy eviction rule: drop_oldest cap 1"), r.message
    assert "boundary case: MailboxBurst(capacity=1, drop_oldest" in r.message, r.message
    assert r.metrics["boundary_counterexample"].startswith("MailboxBurst(capacity=1, drop_oldest")


def test_a_replay_of_one_property_leaves_the_others_of_the_run_alone() -> None:
    first, _ = run_actor_harness(
        short_timeouts(), broken.NeverRestartRuntime(), only=["test_property_restart_schedule"]
    )
    with replaying(first[0].metrics["replay_token"]):
        results, _ = run_actor_harness(
            short_timeouts(), broken.NeverRestartRuntime(),
            only=["test_property_restart_schedule", "test_property_fifo_within_priority"],
        )  # fmt: skip
    by = {r.name: r for r in results}
    assert by["test_property_restart_schedule"].status is TestStatus.FAILED
    other = by["test_property_fifo_within_priority"]
    assert other.status is TestStatus.PASSED
    assert other.metrics["fifo-within-a-priority.skipped_by_replay"] is True


def test_the_fixed_runtime_passes_the_replayed_case() -> None:
    """The same token against the correct runtime: the case runs once and passes."""
    first, _ = run_actor_harness(
        short_timeouts(), broken.OneForOneOnlyRuntime(), only=["test_property_restart_schedule"]
    )
    with replaying(first[0].metrics["replay_token"]):
        (r,), _ = run_actor_harness(short_timeouts(), only=["test_property_restart_schedule"])
    assert r.status is TestStatus.PASSED, r.message
    assert (
        r.metrics["replayed"] is True
        and r.metrics["replayed_case"] == first[0].metrics["counterexample"]
    )


# -- the models the properties are stated with -------------------------------------------------
N, H, C, L = Priority.NORMAL, Priority.HIGH, Priority.CRITICAL, Priority.LOW


def test_mailbox_model_states_each_policy() -> None:
    burst = [("a", L), ("b", N), ("c", H), ("d", L)]
    assert predict(2, Overflow.BACKPRESSURE, burst).outcomes == [
        ACCEPTED,
        ACCEPTED,
        REFUSED,
        REFUSED,
    ]
    assert predict(2, Overflow.DROP_NEWEST, burst).delivered == ["b", "a"]
    oldest = predict(2, Overflow.DROP_OLDEST, burst)  # c evicts a (LOW, oldest); d evicts nothing
    assert (oldest.evicted, oldest.outcomes[3], oldest.delivered) == (["a"], DROPPED, ["c", "b"])
    lowest = predict(2, Overflow.DROP_LOWEST_PRIORITY, burst)
    assert (lowest.evicted, lowest.delivered) == (["a"], ["c", "b"])
    same = predict(1, Overflow.DROP_OLDEST, [("a", N), ("b", N)])  # equal level: oldest goes
    assert (same.evicted, same.delivered) == (["a"], ["b"])
    assert predict(1, Overflow.DROP_LOWEST_PRIORITY, [("a", N), ("b", N)]).delivered == ["a"]
    assert predict(3, Overflow.REJECT, [("x", C)] * 1 + [("y", L)]).delivered == ["x", "y"]


def test_supervision_model() -> None:
    def case(
        strategy: Strategy, restart: str, m: int, n: int, crashes: list[int]
    ) -> SupervisionCase:
        return SupervisionCase(strategy, restart, m, n, tuple(crashes))

    e = expected_after(case(Strategy.REST_FOR_ONE, "always", 3, 3, [1]))
    assert e.built == [1, 2, 2] and e.restarts == 1
    e = expected_after(case(Strategy.ONE_FOR_ALL, "always", 1, 2, [0, 1]))
    assert e.alive == [False, False] and not e.supervisor_alive and e.built == [2, 2]
    e = expected_after(case(Strategy.ONE_FOR_ALL, "never", 1, 2, [0, 0, 1]))
    assert e.alive == [False, False] and e.supervisor_alive and e.restarts == 0
    e = expected_after(case(Strategy.ONE_FOR_ONE, "exponential_backoff", 3, 1, [0, 0, 0]))
    assert e.delays == [0.004, 0.008, 0.016]
