"""The Foundation harness must fail when any of its subjects is broken."""

import asyncio
import json
from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.events import EventLog
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.foundation import FoundationHarness
from alys_test_framework.harness.registry import HarnessRegistry, Registration
from alys_test_framework.metrics import ResourceSampler
from alys_test_framework.phases import MigrationPhase


def run(tmp_path: Path, only=None, **subjects):
    harness = FoundationHarness(
        HarnessContext(TestConfig.development(), workdir=tmp_path), **subjects
    )
    return {r.name: r for r in asyncio.run(harness.run_tests(only))}


def test_real_subjects_pass(tmp_path):
    results = run(tmp_path)
    assert all(r.passed for r in results.values()), {n: r.message for n, r in results.items()}
    assert len(results) == 7


class LenientConfig(TestConfig):
    """Accepts any failure rate: the range check was lost."""

    @classmethod
    def from_dict(cls, data, source="config"):
        if data.get("network", {}).get("failure_rate") is not None:
            return cls()
        return super().from_dict(data, source)


class LossyTomlConfig(TestConfig):
    """Forgets the worker count when written to TOML."""

    def to_toml(self) -> str:
        return super().to_toml().replace("workers = ", "# workers = ")


def test_broken_config_validation_fails(tmp_path):
    r = run(tmp_path, ["test_config_validation"], config_cls=LenientConfig)[
        "test_config_validation"
    ]
    assert r.status.value == "failed" and "invalid config rejected" in r.message


def test_broken_config_round_trip_fails(tmp_path):
    r = run(tmp_path, ["test_config_round_trip"], config_cls=LossyTomlConfig)[
        "test_config_round_trip"
    ]
    assert r.status.value == "failed" and "TOML round trip is exact" in r.message


class NotAHarness:
    def __init__(self, ctx):
        self.name = "imposter"


class UnhealthyHarness(FoundationHarness):
    async def health_check(self) -> bool:
        return False


def test_broken_registry_fails(tmp_path):
    reg = HarnessRegistry(
        [
            Registration(
                MigrationPhase.FOUNDATION,
                "alys_test_framework.harness.foundation:FoundationHarness",
            )
        ]
    )
    reg.register(MigrationPhase.ACTOR_CORE, NotAHarness)
    r = run(tmp_path, ["test_harness_registry"], registry=reg)["test_harness_registry"]
    assert r.status.value == "failed" and "registered object is a TestHarness" in r.message
    empty = HarnessRegistry([])
    r = run(tmp_path, ["test_harness_registry"], registry=empty)["test_harness_registry"]
    assert "foundation phase is registered" in r.message


class NullHarness:
    """Declares nothing and runs nothing (a feature switched off): requires nothing, valid."""

    name = "null"
    categories: tuple[str, ...] = ()

    def __init__(self, ctx):
        self.results = []

    async def health_check(self):
        return True

    async def initialize(self):
        return None

    async def run_all_tests(self):
        return []

    async def shutdown(self):
        return None

    def get_metrics(self):
        return {}


def make_drifted():
    """A harness whose categories were changed after the class was checked at definition."""
    from alys_test_framework.harness.base import BaseHarness, harness_test

    class Drifted(BaseHarness):
        name = "drifted"
        categories = ("alpha",)

        @harness_test("alpha")
        async def test_a(self, out):
            out.expect(True, "x")

    Drifted.categories = ()  # type: ignore[misc]
    return Drifted


def test_categories_must_cover_the_tests_a_null_harness_is_valid(tmp_path):
    reg = HarnessRegistry(
        [
            Registration(
                MigrationPhase.FOUNDATION,
                "alys_test_framework.harness.foundation:FoundationHarness",
            )
        ]
    )
    reg.register(MigrationPhase.SYNC_IMPROVEMENT, NullHarness)
    r = run(tmp_path, ["test_harness_registry"], registry=reg)["test_harness_registry"]
    assert r.passed, r.message
    reg.register(MigrationPhase.ACTOR_CORE, make_drifted())
    r = run(tmp_path, ["test_harness_registry"], registry=reg)["test_harness_registry"]
    assert r.status.value == "failed"
    assert "harness declares the categories its tests use" in r.message and "alpha" in r.message


def test_unhealthy_target_fails_health(tmp_path):
    reg = HarnessRegistry([])
    reg.register(MigrationPhase.ACTOR_CORE, UnhealthyHarness)
    r = run(tmp_path, ["test_harness_health"], registry=reg)["test_harness_health"]
    assert r.status.value == "failed" and "harness reports its target healthy" in r.message


class BlindSampler(ResourceSampler):
    """Never looks at the process: every metric stays zero."""

    def sample(self) -> None:
        self.metrics.samples += 1


def test_broken_resource_sampler_fails(tmp_path):
    r = run(tmp_path, ["test_resource_sampling"], sampler_factory=BlindSampler)[
        "test_resource_sampling"
    ]
    assert r.status.value == "failed"
    assert "sampler sees a 64 MiB allocation" in r.message and "sampler sees CPU work" in r.message


class BufferedLog(EventLog):
    """Keeps events in memory and writes them only at close: a crash would lose them."""

    def __init__(self, path):
        super().__init__(None)
        self._target = path
        self._target.touch()

    def close(self) -> None:
        with open(self._target, "a") as fh:
            for e in self.events:
                fh.write(e.to_json() + "\n")


class StatusLosingLog(EventLog):
    """Drops the status of failed tests."""

    def emit(self, type, source, **metadata):
        if metadata.get("status") == "failed":
            metadata["status"] = "passed"
        return super().emit(type, source, **metadata)


@pytest.mark.parametrize(
    "log_cls, prop",
    [
        (BufferedLog, "events are flushed as they are emitted"),
        (StatusLosingLog, "replay rebuilds the summary"),
    ],
)
def test_broken_event_log_fails(tmp_path, log_cls, prop):
    r = run(tmp_path, ["test_event_log_replay"], event_log_factory=log_cls)["test_event_log_replay"]
    assert r.status.value == "failed" and prop in r.message


def test_events_survive_a_torn_last_line(tmp_path):
    path = tmp_path / "e.jsonl"
    log = EventLog(path)
    log.emit("a", "t", x=1)
    log.emit("b", "t")
    log.close()
    with open(path, "a") as fh:
        fh.write('{"event_id": 3, "timest')  # crash mid-write
    from alys_test_framework.events import read_events

    assert [e.type for e in read_events(path)] == ["a", "b"]
    assert json.loads(path.read_text().splitlines()[0])["metadata"] == {"x": 1}
