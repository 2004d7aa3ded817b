"""Measured metrics: latency histograms, psutil resource sampling, phase and execution totals.

Numbers here are observations of the running system, never estimates: percentiles come from an
HDR histogram and resources from psutil samples taken while the tests run.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil
from hdrh.histogram import HdrHistogram

from .results import PhaseMetrics, TestResult  # PhaseMetrics: re-exported, it counts results


class LatencyHistogram:
    """Seconds in, percentiles out; microsecond resolution with 3 significant digits."""

    def __init__(self, max_seconds: float = 3600.0) -> None:
        self._h = HdrHistogram(1, max(2, int(max_seconds * 1e6)), 3)
        self._max_us = int(max_seconds * 1e6)

    def record(self, seconds: float) -> None:
        self._h.record_value(min(self._max_us, max(1, int(seconds * 1e6))))

    @property
    def count(self) -> int:
        return self._h.get_total_count()

    def percentile(self, p: float) -> float:
        """Value at percentile p (0-100) in seconds; 0.0 when empty."""
        if self.count == 0:
            return 0.0
        return self._h.get_value_at_percentile(p) / 1e6

    def summary_ms(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50_ms": self.percentile(50) * 1e3,
            "p95_ms": self.percentile(95) * 1e3,
            "p99_ms": self.percentile(99) * 1e3,
            "max_ms": (self._h.get_max_value() / 1e3) if self.count else 0.0,
        }


@dataclass
class ResourceMetrics:
    samples: int = 0
    peak_rss_mb: float = 0.0
    mean_rss_mb: float = 0.0
    peak_children_rss_mb: float = 0.0
    mean_cpu_percent: float = 0.0
    peak_cpu_percent: float = 0.0
    peak_threads: int = 0
    peak_open_fds: int = 0
    peak_children: int = 0
    io_read_bytes: int = 0
    io_write_bytes: int = 0
    # (unix time, RSS MiB, CPU %, children RSS MiB, threads) per kept sample: the report's
    # resource plot; thinned to every other sample when full, so a long run stays bounded
    timeline: list[tuple[float, float, float, float, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TIMELINE_LIMIT = 2000


class ResourceSampler:
    """Samples this process (and its children) with psutil on a background thread."""

    def __init__(self, interval_s: float = 0.5, pid: int | None = None) -> None:
        self.interval_s = interval_s
        self._proc = psutil.Process(pid or os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rss: list[float] = []
        self._cpu: list[float] = []
        self.metrics = ResourceMetrics()
        self._io0 = self._io()

    def _io(self) -> tuple[int, int]:
        try:
            io = self._proc.io_counters()
            return io.read_bytes, io.write_bytes
        except (psutil.AccessDenied, AttributeError, psutil.NoSuchProcess):
            return 0, 0

    def sample(self) -> None:
        """Take one sample now (also called by the thread)."""
        m = self.metrics
        with self._proc.oneshot():
            rss = self._proc.memory_info().rss / 2**20
            cpu = self._proc.cpu_percent(None)
            threads = self._proc.num_threads()
            try:
                fds = self._proc.num_fds()
            except (AttributeError, psutil.AccessDenied):
                fds = 0
        children_rss = 0.0
        children = self._proc.children(recursive=True)
        for child in children:
            try:
                children_rss += child.memory_info().rss / 2**20
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        self._rss.append(rss)
        self._cpu.append(cpu)
        m.samples += 1
        m.peak_rss_mb = max(m.peak_rss_mb, rss)
        m.mean_rss_mb = sum(self._rss) / len(self._rss)
        m.peak_cpu_percent = max(m.peak_cpu_percent, cpu)
        m.mean_cpu_percent = sum(self._cpu) / len(self._cpu)
        m.peak_threads = max(m.peak_threads, threads)
        m.peak_open_fds = max(m.peak_open_fds, fds)
        m.peak_children = max(m.peak_children, len(children))
        m.peak_children_rss_mb = max(m.peak_children_rss_mb, children_rss)
        r, w = self._io()
        m.io_read_bytes, m.io_write_bytes = r - self._io0[0], w - self._io0[1]
        m.timeline.append(
            (round(time.time(), 3), round(rss, 2), round(cpu, 1), round(children_rss, 2), threads)
        )
        if len(m.timeline) > TIMELINE_LIMIT:
            m.timeline[:] = m.timeline[::2]

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except psutil.Error:
                continue

    def start(self) -> ResourceSampler:
        self._proc.cpu_percent(None)  # prime: the first call always returns 0
        self.sample()
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> ResourceMetrics:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            self.sample()
        except psutil.Error:
            pass
        return self.metrics

    def __enter__(self) -> ResourceSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class ExecutionMetrics:
    wall_time_s: float = 0.0
    test_time_s: float = 0.0
    tests: int = 0
    parallelism: float = 0.0  # test time / wall time: >1 means tests overlapped
    framework_overhead_s: float = 0.0  # wall time in neither a test nor a target's set-up
    workers: int = 0
    target_setup_s: float = 0.0  # harness health checks, initialize and shutdown (the targets')

    @classmethod
    def compute(
        cls, wall_s: float, results: list[TestResult], workers: int, target_setup_s: float = 0.0
    ) -> ExecutionMetrics:
        test_s = sum(r.duration_s for r in results)
        return cls(
            wall_time_s=wall_s,
            test_time_s=test_s,
            tests=len(results),
            parallelism=(test_s / wall_s) if wall_s > 0 else 0.0,
            framework_overhead_s=max(0.0, wall_s - test_s - target_setup_s),
            workers=workers,
            target_setup_s=target_setup_s,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PerformanceMetrics:
    """Throughput and latency gathered from the tests' own measurements."""

    throughput: dict[str, float] = field(default_factory=dict)
    latency: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_results(cls, results: list[TestResult]) -> PerformanceMetrics:
        pm = cls()
        for r in results:
            for key, value in r.metrics.items():
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                if key.endswith("_per_s") or "throughput" in key:
                    pm.throughput[f"{r.harness}.{r.name}.{key}"] = float(value)
                for p in ("p50", "p95", "p99"):
                    if key.startswith(p) or f"_{p}" in key:
                        pm.latency.setdefault(f"{r.harness}.{r.name}", {})[key] = float(value)
        return pm

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def now() -> float:
    return time.time()


__all__ = [
    "ExecutionMetrics",
    "LatencyHistogram",
    "PerformanceMetrics",
    "PhaseMetrics",
    "ResourceMetrics",
    "ResourceSampler",
    "TIMELINE_LIMIT",
    "now",
]
