"""Prometheus metrics of one node (own registry: several nodes may live in one test process)."""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.head = Gauge("alys_head_height", "Height of the canonical head", registry=r)
        self.peers = Gauge("alys_peers", "Connected peers (handshake done)", registry=r)
        self.blocks = Counter("alys_blocks_imported", "Blocks made durable", registry=r)
        self.rate = Gauge(
            "alys_blocks_imported_per_second", "Import rate over the last 10 s", registry=r
        )
        self.bytes_in = Counter("alys_p2p_bytes_in", "P2P bytes received", registry=r)
        self.bytes_out = Counter("alys_p2p_bytes_out", "P2P bytes sent", registry=r)
        self.bans = Counter("alys_peer_bans", "Peers banned", registry=r)
        self._window: deque[tuple[float, int]] = deque()

    def imported(self, n: int, height: int | None = None) -> None:
        self.blocks.inc(n)
        now = time.monotonic()
        self._window.append((now, n))
        if height is not None:
            self.head.set(height)

    def render(self) -> bytes:
        now = time.monotonic()
        while self._window and self._window[0][0] < now - 10:
            self._window.popleft()
        self.rate.set(sum(n for _, n in self._window) / 10.0)
        return generate_latest(self.registry)
