"""Checker: gossip reach and latency per node (G4), never as an aggregate.

Rules: the reference chain is the final chain of the node with the highest final head; a block
of it "originates" at the earliest ``received_at`` any node reported for it. Each node running
at the end must hold every reference block from its first observed height upwards (reach 1.0),
and, when ``max_latency_s`` is given, its p95 arrival latency must not exceed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..oracles.chain import Violation
from ..oracles.chain.encoding import hex_bytes
from .history import History


@dataclass(frozen=True)
class NodeGossip:
    node: str
    expected: int
    received: int
    latencies_s: tuple[float, ...]

    @property
    def reach(self) -> float:
        return self.received / self.expected if self.expected else 1.0

    def pct(self, q: float) -> float | None:
        if not self.latencies_s:
            return None
        xs = sorted(self.latencies_s)
        return xs[min(len(xs) - 1, int(q / 100 * len(xs)))]


def gossip_stats(history: History, nodes: list[str] | None = None) -> dict[str, NodeGossip]:
    nodes = nodes if nodes is not None else history.live_at_end()
    finals = {n: history.final_state(n) for n in history.nodes()}
    if not finals:
        return {}
    ref = max(finals.values(), key=lambda s: s.head)
    arrival: dict[tuple[str, str], float] = {}
    first_height: dict[str, int] = {}
    for e in history.kind("block"):
        if e.get("received_at") is not None:
            arrival.setdefault((e["node"], e["hash"]), float(e["received_at"]))
        first_height.setdefault(e["node"], int(e["height"]))
    origin: dict[str, float] = {}
    for (_, h), t in arrival.items():
        origin[h] = min(t, origin.get(h, t))
    out = {}
    for n in nodes:
        st = finals.get(n)
        start = first_height.get(n, 0) + 1
        want = [ref.chain[h] for h in range(start, ref.head + 1) if h in ref.chain]
        have = set(st.chain.values()) if st else set()
        lat = tuple(arrival[(n, h)] - origin[h] for h in want if (n, h) in arrival and h in origin)
        out[n] = NodeGossip(n, len(want), sum(1 for h in want if h in have), lat)
    return out


def check_gossip(
    history: History, max_latency_s: float | None = None, nodes: list[str] | None = None
) -> list[Violation]:
    out: list[Violation] = []
    finals = {n: history.final_state(n) for n in history.nodes()}
    ref = max(finals.values(), key=lambda s: s.head, default=None)
    for n, g in gossip_stats(history, nodes).items():
        if g.received < g.expected:
            st = finals.get(n)
            missing = [
                h for h in range(ref.head + 1) if ref and h in ref.chain and st
                and st.chain.get(h) != ref.chain[h]
            ][:1] if ref else []  # fmt: skip
            h0 = missing[0] if missing else None
            out.append(
                Violation("G4", f"reach {g.received}/{g.expected} blocks", h0,
                          hex_bytes(ref.chain[h0]) if ref and h0 is not None else None, n)
            )  # fmt: skip
        p95 = g.pct(95)
        if max_latency_s is not None and p95 is not None and p95 > max_latency_s:
            out.append(
                Violation("G4", f"p95 arrival latency {p95 * 1000:.0f} ms > "
                          f"{max_latency_s * 1000:.0f} ms", None, None, n)
            )  # fmt: skip
    return out
