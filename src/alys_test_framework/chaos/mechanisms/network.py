"""Network faults through the cluster's FaultProxy (every P2P link passes through it).

This machine's kernel has no netem, so delay, jitter, loss and corruption are injected by the
proxy; the fault acts on all traffic to and from the target node. Effects are measured from the
nodes' own ``received_at`` stamps (delivery delay against the baseline of the same run) and the
proxy's byte/chunk counters over the fault window.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ...targets.cluster import FaultRecord, Partition
from .base import Effect, Mechanism, connected, delays_during, head, median


class _ProxyFault(Mechanism):
    kind = "faults"
    name = "fault-proxy"

    def pairs(self) -> list[tuple[int, int]]:
        t = self.target
        return [p for o in self.ctx.others(t) for p in ((t, o), (o, t))]

    def fault_params(self) -> dict[str, Any]:
        return {}

    async def start(self) -> None:
        proxy = self.ctx.cluster.proxy
        assert proxy is not None
        await connected(self.ctx, self.target)  # a fault on a link nobody uses shows nothing
        self._pairs = self.pairs()
        self._stats0 = {p: _snap(proxy.stats_for(*p)) for p in self._pairs}
        self._t0 = time.monotonic()
        self._h0 = {i: await head(self.ctx, i) for i in range(self.ctx.n)}
        self._since = time.time()
        self.rec: FaultRecord = self._apply()

    def _apply(self) -> FaultRecord:
        proxy = self.ctx.cluster.proxy
        assert proxy is not None
        return proxy.apply(self._pairs, f"chaos:{self.event.type.value}", **self.fault_params())

    def delta(self) -> dict[str, int]:
        proxy = self.ctx.cluster.proxy
        assert proxy is not None
        out: dict[str, int] = {}
        for p in self._pairs:
            now, then = _snap(proxy.stats_for(*p)), self._stats0[p]
            for k in now:
                out[k] = out.get(k, 0) + now[k] - then[k]
        return out

    async def traffic(self, chunks: int = 20, wait_s: float = 6.0) -> dict[str, int]:
        """Counters over the window, extended (fault still on) until ``chunks`` chunks crossed:
        a rate measured on a handful of chunks says nothing."""
        loop = asyncio.get_running_loop()
        end = loop.time() + wait_s
        while True:
            d = self.delta()
            if d["chunks"] >= chunks or loop.time() >= end:
                return d
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        proxy = self.ctx.cluster.proxy
        if proxy is not None and hasattr(self, "rec"):
            proxy.clear(self.rec)

    async def _delay_effect(self, expect_s: float) -> Effect:
        """Median delivery delay producer -> observer during the window vs the baseline."""
        ctx = self.ctx
        obs = ctx.observer(self.target)
        lo = max(h for h in (self._h0.get(obs), 0) if h is not None) + 1
        d = median(await delays_during(ctx, obs, self._since, lo))
        hi = await head(ctx, obs) or 0
        base = ctx.baseline_delay_s.get(obs, 0.0)
        if d is None:  # nothing produced during the fault arrived: the lag is the effect
            p0, o0 = self._h0.get(ctx.producer), self._h0.get(obs)
            p1 = await head(ctx, ctx.producer)
            lag0 = (p0 - o0) if p0 is not None and o0 is not None else None
            lag1 = (p1 - hi) if p1 is not None and hi else None
            seen = lag0 is not None and lag1 is not None and lag1 > lag0
            return Effect(seen, f"no block produced during the fault reached node-{obs}; it lags "
                          f"the producer by {lag1} blocks (by {lag0} before)",
                          {"blocks": 0, "lag_before": lag0, "lag_after": lag1})  # fmt: skip
        added = d - base
        return Effect(  # half the injected delay: the baseline is noisy on a loaded machine
            added >= 0.5 * expect_s,
            f"delivery to node-{obs} {d * 1000:.0f} ms (baseline {base * 1000:.0f} ms, "
            f"+{added * 1000:.0f} ms; injected {expect_s * 1000:.0f} ms)",
            {"delivery_ms": round(d * 1000, 1), "baseline_ms": round(base * 1000, 1),
             "added_ms": round(added * 1000, 1), "blocks": hi - lo + 1},
        )  # fmt: skip


def _snap(s: Any) -> dict[str, int]:
    return {"bytes": s.bytes, "chunks": s.chunks, "corrupted": s.corrupted,
            "delayed_by_loss": s.delayed_by_loss, "connections": s.connections,
            "refused": s.refused}  # fmt: skip


class NetworkPartitionFault(_ProxyFault):
    """Isolates the target from every other node (drop: bytes held, as a blackhole)."""

    def _apply(self) -> FaultRecord:
        proxy = self.ctx.cluster.proxy
        assert proxy is not None
        shape = Partition.isolate(self.ctx.n, self.target)
        return proxy.partition(shape, mode=self.params.get("mode", "drop"))

    async def measure(self) -> Effect:
        # a chunk already read when the cut came may still be delivered (one per direction at
        # most); the cut holds when nothing more crosses over one further second
        first = self.delta()
        await asyncio.sleep(1.0)
        d = self.delta()
        heads = {i: await head(self.ctx, i) for i in range(self.ctx.n)}
        known = [h for h in heads.values() if h is not None]
        lag = (max(known) - min(known)) if known else None
        held = d["bytes"] == first["bytes"] and d["chunks"] <= len(self._pairs)
        return Effect(held, f"{d['chunks']} chunks ({d['bytes']} bytes, in flight at the cut) "
                      f"crossed, none in the last second; head spread {lag}",
                      {"bytes_across_cut": d["bytes"], "chunks_across_cut": d["chunks"],
                       "head_spread": lag})  # fmt: skip


class LatencyFault(_ProxyFault):
    def fault_params(self) -> dict[str, Any]:
        return {"latency_ms": self.params["latency_ms"], "jitter_ms": self.params["jitter_ms"]}

    async def measure(self) -> Effect:
        return await self._delay_effect(self.params["latency_ms"] / 1000)


class TimingFault(_ProxyFault):
    """Selective delay: only what the victim *receives* is late; what it sends is on time."""

    def pairs(self) -> list[tuple[int, int]]:
        return [(o, self.target) for o in self.ctx.others(self.target)]

    def fault_params(self) -> dict[str, Any]:
        return {"latency_ms": self.params["latency_ms"]}

    async def measure(self) -> Effect:
        return await self._delay_effect(self.params["latency_ms"] / 1000)


class CorruptionFault(_ProxyFault):
    """Flips a byte in a share of the chunks on the block stream between the producer and
    the target (the producer's stream to a follower when the target is the producer)."""

    def pairs(self) -> list[tuple[int, int]]:
        p = self.ctx.producer
        if self.target == p:
            return [(p, self.ctx.others(p)[0])]
        return [(p, self.target)]

    def fault_params(self) -> dict[str, Any]:
        return {"corrupt": self.params["corrupt"]}

    async def measure(self) -> Effect:
        d = await self.traffic()
        rate = d["corrupted"] / d["chunks"] if d["chunks"] else 0.0
        return Effect(d["corrupted"] > 0, f"{d['corrupted']} of {d['chunks']} chunks corrupted "
                      f"({rate:.0%}; injected {self.params['corrupt']:.0%})",
                      {"corrupted": d["corrupted"], "chunks": d["chunks"],
                       "rate": round(rate, 3)})  # fmt: skip


class PacketLossFault(_ProxyFault):
    def fault_params(self) -> dict[str, Any]:
        return {"loss": self.params["loss"], "loss_rto_ms": self.params["loss_rto_ms"]}

    async def measure(self) -> Effect:
        d = await self.traffic()
        rate = d["delayed_by_loss"] / d["chunks"] if d["chunks"] else 0.0
        return Effect(d["delayed_by_loss"] > 0 and rate >= 0.3 * self.params["loss"],
                      f"{d['delayed_by_loss']} of {d['chunks']} segments lost and retransmitted "
                      f"({rate:.0%}; injected {self.params['loss']:.0%})",
                      {"lost": d["delayed_by_loss"], "chunks": d["chunks"],
                       "loss_rate": round(rate, 3)})  # fmt: skip


class CongestionFault(_ProxyFault):
    def fault_params(self) -> dict[str, Any]:
        return {"bandwidth_bps": self.params["bandwidth_bps"]}

    async def measure(self) -> Effect:
        d = self.delta()
        secs = max(1e-6, time.monotonic() - self._t0)
        per_pair = d["bytes"] / secs / max(1, len(self._pairs))
        cap = self.params["bandwidth_bps"]
        return Effect(d["bytes"] > 0 and per_pair <= cap * 1.25,
                      f"{per_pair:.0f} B/s per direction on the target's links (cap {cap:.0f})",
                      {"bytes_per_s_per_pair": round(per_pair, 1), "cap_bps": cap,
                       "bytes": d["bytes"]})  # fmt: skip


class DisconnectionFault(_ProxyFault):
    """Resets the target's connections and refuses new ones; measured in its peer list."""

    def fault_params(self) -> dict[str, Any]:
        return {"partitioned": True, "partition_mode": "close"}

    async def measure(self) -> Effect:
        node = self.ctx.cluster.nodes[self.target]
        peers: Any = None
        try:
            peers = len(await node.call("admin_peers", timeout_s=3))
        except Exception as exc:  # noqa: BLE001 - the measurement reports what it saw
            peers = f"unreachable: {exc}"
        d = self.delta()
        return Effect(peers == 0, f"node-{self.target} has {peers} peers; {d['refused']} "
                      "reconnects refused", {"peers": peers, "refused": d["refused"]})  # fmt: skip
