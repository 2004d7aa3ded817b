"""FoundationHarness: the framework checks itself before it judges anything else.

Each check exercises a real subject (the config class, the harness registry, the resource
sampler, the event log) and the subjects are injectable so that the test suite can hand in
broken ones and watch this harness fail.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import ConfigError, TestConfig
from ..events import EventLog, read_events
from ..metrics import LatencyHistogram, ResourceSampler
from ..phases import MigrationPhase
from .base import BaseHarness, HarnessContext, Outcome, TestHarness, harness_test
from .registry import HarnessRegistry

# (overrides, field that the error message must name)
BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"network": {"failure_rate": 1.5}}, "network.failure_rate"),
    ({"network": {"failure_rate": -0.1}}, "network.failure_rate"),
    ({"workers": 0}, "workers"),
    ({"sync": {"checkpoint_interval": 0}}, "sync.checkpoint_interval"),
    ({"sync": {"block_rate": -1}}, "sync.block_rate"),
    ({"performance": {"regression_threshold_pct": 0}}, "performance.regression_threshold_pct"),
    ({"chaos": {"events_per_minute": 0}}, "chaos.events_per_minute"),
    ({"no_such_key": 1}, "no_such_key"),
    ({"actor_system": {"mailbox_capacity": "many"}}, "actor_system.mailbox_capacity"),
]


class FoundationHarness(BaseHarness):
    name = "foundation"
    categories = ("config", "registry", "metrics", "events")

    def __init__(
        self,
        ctx: HarnessContext,
        *,
        config_cls: type[TestConfig] = TestConfig,
        registry: HarnessRegistry | None = None,
        sampler_factory: Callable[[float], ResourceSampler] = ResourceSampler,
        event_log_factory: Callable[[Path], EventLog] = EventLog,
    ) -> None:
        super().__init__(ctx)
        self.config_cls = config_cls
        self.registry = registry or HarnessRegistry()
        self.sampler_factory = sampler_factory
        self.event_log_factory = event_log_factory

    async def health_check(self) -> bool:
        return self.ctx.workdir.is_dir() and os.access(self.ctx.workdir, os.W_OK)

    @harness_test("config")
    async def test_config_validation(self, out: Outcome) -> None:
        rejected = 0
        for overrides, field in BAD_CONFIGS:
            try:
                self.config_cls.from_dict(overrides)
            except ConfigError as exc:
                rejected += 1
                text = str(exc)
                out.expect(
                    field in text, "config error names the field", f"{overrides} -> {text!r}"
                )
                out.expect("\n" not in text, "config error is one line", repr(text))
            else:
                out.expect(False, "invalid config rejected", f"{overrides} was accepted")
        out.record(bad_configs=len(BAD_CONFIGS), rejected=rejected)

    @harness_test("config")
    async def test_config_round_trip(self, out: Outcome) -> None:
        for name in ("default", "development", "ci_cd"):
            cfg = self.config_cls.preset(name)
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as fh:
                fh.write(cfg.to_toml())
            try:
                back = self.config_cls.from_toml(fh.name)
            finally:
                os.unlink(fh.name)
            out.expect(
                back == cfg, "TOML round trip is exact", f"preset {name} changed after a round trip"
            )
        env = {"ALYS_TEST_SEED": "4242", "ALYS_TEST_SYNC__TIMEOUT_S": "12.5"}
        cfg = self.config_cls.load(env=env)
        out.expect(
            cfg.seed == 4242 and cfg.sync.timeout_s == 12.5,
            "environment overrides apply",
            f"seed={cfg.seed} sync.timeout_s={cfg.sync.timeout_s}",
        )
        dev, ci = self.config_cls.development(), self.config_cls.ci_cd()
        out.expect(
            not dev.parallel_tests and ci.parallel_tests and ci.chaos_enabled,
            "presets differ as documented",
            "development serial; ci_cd parallel with chaos",
        )

    @harness_test("registry")
    async def test_harness_registry(self, out: Outcome) -> None:
        implemented, missing = [], []
        for phase in MigrationPhase:
            factories = self.registry.factories(phase)
            (implemented if factories else missing).append(phase.value)
            for factory in factories:
                harness = factory(HarnessContext(self.config, self.ctx.events, self.ctx.workdir))
                label = f"{phase.value}:{getattr(harness, 'name', factory)}"
                out.expect(
                    isinstance(harness, TestHarness), "registered object is a TestHarness", label
                )
                out.expect(bool(getattr(harness, "name", "")), "harness has a name", label)
                cats = getattr(type(harness), "categories", ())
                out.expect(
                    bool(cats), "harness declares the categories its validator requires", label
                )
        out.expect(MigrationPhase.FOUNDATION.value in implemented, "foundation phase is registered")
        out.record(implemented=implemented, not_implemented=missing)

    @harness_test("registry")
    async def test_harness_health(self, out: Outcome) -> None:
        checked = 0
        for phase in MigrationPhase:
            for factory in self.registry.factories(phase):
                harness = factory(HarnessContext(self.config, self.ctx.events, self.ctx.workdir))
                try:
                    healthy = await asyncio.wait_for(harness.health_check(), timeout=30)
                except Exception as exc:
                    healthy = False
                    out.expect(
                        False,
                        "health check completes",
                        f"{harness.name}: {type(exc).__name__}: {exc}",
                    )
                    continue
                checked += 1
                out.expect(healthy is True, "harness reports its target healthy", harness.name)
        out.record(harnesses_checked=checked)

    @harness_test("metrics")
    async def test_resource_sampling(self, out: Outcome) -> None:
        sampler = self.sampler_factory(0.05)
        sampler.start()
        before = sampler.metrics.peak_rss_mb
        ballast = bytearray(64 * 2**20)
        ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page so RSS really grows
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:  # real CPU work for the sampler to see
            sum(range(10_000))
        sampler.sample()
        metrics = sampler.stop()
        del ballast
        grown = metrics.peak_rss_mb - before
        out.record(
            samples=metrics.samples,
            rss_growth_mb=round(grown, 1),
            peak_cpu_percent=metrics.peak_cpu_percent,
            peak_threads=metrics.peak_threads,
        )
        out.expect(metrics.samples >= 2, "sampler takes samples", f"{metrics.samples} samples")
        out.expect(
            grown >= 48, "sampler sees a 64 MiB allocation", f"peak RSS grew {grown:.1f} MiB"
        )
        out.expect(
            metrics.peak_cpu_percent > 10,
            "sampler sees CPU work",
            f"peak CPU {metrics.peak_cpu_percent:.1f}%",
        )
        out.expect(
            metrics.peak_threads >= 2,
            "sampler counts threads (itself included)",
            f"{metrics.peak_threads} threads",
        )

    @harness_test("metrics")
    async def test_latency_histogram(self, out: Outcome) -> None:
        hist = LatencyHistogram()
        for ms in range(1, 1001):
            hist.record(ms / 1000)
        p50, p99 = hist.percentile(50) * 1000, hist.percentile(99) * 1000
        out.record(p50_ms=p50, p99_ms=p99, count=hist.count)
        out.expect(hist.count == 1000, "histogram counts every sample", str(hist.count))
        out.expect(abs(p50 - 500) <= 5, "p50 of 1..1000 ms is 500 ms", f"{p50:.2f} ms")
        out.expect(abs(p99 - 990) <= 10, "p99 of 1..1000 ms is 990 ms", f"{p99:.2f} ms")

    @harness_test("events")
    async def test_event_log_replay(self, out: Outcome) -> None:
        from ..framework import summarize
        from ..reporting.replay import replay_summary

        path = Path(tempfile.mkdtemp(dir=self.ctx.workdir)) / "events.jsonl"
        log = self.event_log_factory(path)
        statuses = ["passed", "failed", "passed", "skipped"]
        log.emit("run_started", "foundation", run_id="selfcheck")
        for i, status in enumerate(statuses):
            log.emit("test_finished", "foundation", test=f"t{i}", status=status)
        log.emit("phase_finished", "foundation", phase="foundation", status="failed")
        # read while the log is still open: events must be on disk as soon as they are emitted
        on_disk = list(read_events(path))
        out.expect(
            len(on_disk) == len(statuses) + 2,
            "events are flushed as they are emitted",
            f"{len(on_disk)} of {len(statuses) + 2} events on disk before close",
        )
        ids = [e.event_id for e in on_disk]
        out.expect(ids == sorted(set(ids)), "event ids are unique and increasing", str(ids))
        log.close()
        expected = summarize("selfcheck", {"foundation": "failed"}, statuses, False)
        replayed = replay_summary(path)
        out.expect(replayed == expected, "replay rebuilds the summary", f"{replayed} != {expected}")
        out.record(events=len(on_disk))
