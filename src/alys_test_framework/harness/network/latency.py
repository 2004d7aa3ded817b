"""Latency: nodes converge over links with high latency, jitter and loss, and the injected
delay is visible in the measured propagation (the fault really happened)."""

from __future__ import annotations

import time

from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import percentile
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase


class LatencyTests(NetworkHarnessBase):
    @harness_test("latency")
    async def test_high_latency_convergence(self, out: Outcome) -> None:
        self._needs(out, "admin_peers", "new_blocks", "received_at")
        n = max(3, self.net.node_count)
        lat_ms, jit_ms = self.net.high_latency_ms, min(self.net.jitter_ms, self.net.high_latency_ms)
        async with attached_cluster(self.fixture, out, "latency") as c:
            await self._start(c, n)
            pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
            loss = self.net.failure_rate  # lost segments cost a retransmission, TCP-style
            assert c.proxy is not None
            c.proxy.apply(pairs, "latency", latency_ms=lat_ms, jitter_ms=jit_ms, loss=loss)
            await c.connect_full_mesh()
            await self._wait_peered(c, {i: n - 1 for i in range(n)})
            heights = [(await self._produce_one(c))[0] for _ in range(3)]
            t0 = time.monotonic()
            await c.wait_heads_in_sync(self.timeout_s, min_height=heights[-1])
            conv = time.monotonic() - t0
            lat = await self._latencies(c, heights, list(range(1, n)))
            allv = [v for vs in lat.values() for v in vs]
            out.record(
                link_latency_ms=lat_ms, jitter_ms=jit_ms, loss=loss, convergence_s=round(conv, 3),
                p50_ms=round(percentile(allv, 50) * 1000, 1),
                p99_ms=round(percentile(allv, 99) * 1000, 1),
            )  # fmt: skip
            floor = (lat_ms - jit_ms) / 1000
            out.require(
                bool(allv) and min(allv) >= floor * 0.9,
                "latency was injected",
                f"fastest propagation {min(allv, default=0):.3f} s < link floor {floor:.3f} s",
            )
            out.expect(conv <= self.timeout_s, "nodes converge over high-latency links")
