"""Checkers: peer limits (P4) and bans that hold (P3), per node.

Rules:
- P4: no ``peers`` observation (admin_peers) and no ``metrics`` observation (alys_peers) of a
  node shows more than its ``max_peers``.
- P3: once a node lists a ban of ``addr`` (until ``u``), every later bans observation before
  ``u`` still lists it, and no peers observation after the next one (the disconnect is
  asynchronous: one poll of grace) and before ``u`` shows ``addr`` connected — while the
  node's process runs: bans live in memory (docs/CHAIN_RULES.md P3), so a restart starts over.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..oracles.chain import Violation
from .history import History


def check_peer_limit(history: History, max_peers: int | Mapping[str, int]) -> list[Violation]:
    out: list[Violation] = []
    for node in history.nodes():
        limit = max_peers if isinstance(max_peers, int) else max_peers.get(node)
        if limit is None:
            continue
        worst = 0
        for e in history.of_node(node, "peers", "metrics"):
            n = (
                len(e["peers"])
                if e["kind"] == "peers"
                else int(e.get("values", {}).get("alys_peers", 0))
            )
            worst = max(worst, n)
        if worst > limit:
            out.append(
                Violation("P4", f"{worst} peers connected > max_peers {limit}", None, None, node)
            )
    return out


def check_bans_hold(history: History) -> list[Violation]:
    out: list[Violation] = []
    for node in history.nodes():
        active: dict[str, tuple[float, float]] = {}  # addr -> (first seen t, until)
        grace: dict[str, int] = {}
        for e in history.of_node(node, "bans", "peers", "process"):
            t = e["t"]
            if e["kind"] == "process":
                if e.get("action") in ("start", "restart", "kill", "stop"):
                    active.clear()  # a new process remembers no bans
                continue
            if e["kind"] == "bans":
                listed = {b["addr"]: float(b["until"]) for b in e["bans"]}
                for a, (_, until) in list(active.items()):
                    if a not in listed and t < until - 0.001:
                        out.append(Violation("P3", f"ban of {a} lifted {until - t:.1f} s before "
                                             "it expires", None, None, node))  # fmt: skip
                        del active[a]
                for a, u in listed.items():
                    if a not in active:
                        active[a] = (t, u)
                        grace[a] = 1
            else:
                present = {p.get("addr") for p in e["peers"]}
                for a, (_, until) in list(active.items()):
                    if grace.get(a, 0) > 0:
                        grace[a] -= 1
                        continue
                    if a in present and t < until:
                        out.append(
                            Violation("P3", f"banned peer {a} is connected again", None, None, node)
                        )
                        del active[a]
    return out
