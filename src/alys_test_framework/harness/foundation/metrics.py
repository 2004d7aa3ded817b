"""Category metrics: psutil sampling sees real work; HDR percentiles are exact."""

from __future__ import annotations

import time

from ...metrics import LatencyHistogram
from ..base import Outcome, harness_test
from .kit import FoundationBase


class MetricsChecks(FoundationBase):
    @harness_test("metrics")
    async def test_resource_sampling(self, out: Outcome) -> None:
        sampler = self.sampler_factory(0.05)
        sampler.start()
        before = sampler.metrics.peak_rss_mb
        ballast = bytearray(64 * 2**20)
        ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page so RSS really grows
        wall0, cpu0 = time.perf_counter(), time.process_time()
        deadline = cpu0 + 0.3
        while time.process_time() < deadline:  # real CPU work for the sampler to see
            sum(range(10_000))
        # the CPU share this process really got in the window: on a loaded machine 0.3 CPU-s
        # may take seconds, so the sampler is judged against this, never against a constant
        share = 100 * (time.process_time() - cpu0) / max(1e-9, time.perf_counter() - wall0)
        sampler.sample()
        metrics = sampler.stop()
        del ballast
        grown = metrics.peak_rss_mb - before
        out.record(
            samples=metrics.samples,
            rss_growth_mb=round(grown, 1),
            peak_cpu_percent=metrics.peak_cpu_percent,
            cpu_share_percent=round(share, 1),
            peak_threads=metrics.peak_threads,
        )
        out.expect(metrics.samples >= 2, "sampler takes samples", f"{metrics.samples} samples")
        out.expect(
            grown >= 48, "sampler sees a 64 MiB allocation", f"peak RSS grew {grown:.1f} MiB"
        )
        out.expect(
            metrics.peak_cpu_percent >= 0.5 * share,
            "sampler sees CPU work",
            f"peak CPU {metrics.peak_cpu_percent:.1f}% while the process got {share:.1f}%",
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
