"""Checker: nothing acknowledged is lost (D1, D2), across restarts and SIGKILLs.

Rules:
- D1: after a ``produce`` op acknowledged ``{height, hash}`` by node N, every later observation
  of N whose head reaches that height shows that hash there, and no later head is below it —
  unless N recorded a reorg whose ancestor is below that height (F checkers judge the reorg).
- D2: the first head N reports after a restart is at least the highest head it reported
  before the kill/stop.
"""

from __future__ import annotations

from typing import Any

from ..oracles.chain import Violation
from ..oracles.chain.encoding import hex_bytes
from ..oracles.chain.fork_choice import switch_violations
from .history import History


def check_durability(history: History) -> list[Violation]:
    return _acknowledged(history) + _restarts(history)


def _acknowledged(history: History) -> list[Violation]:
    out: list[Violation] = []
    for op in history.kind("op"):
        if op.get("op") != "produce" or not op.get("ok") or op.get("height") is None:
            continue
        node, height, want, t_ack = op["node"], int(op["height"]), op["hash"], op["t"]
        replaced = False
        for e, st in history.replay(node):
            if e["t"] < t_ack:
                continue
            if e["kind"] == "reorg" and int(e["ancestor"]) < height and _legit(e):
                replaced = True
            if replaced:
                break
            if e["kind"] == "head" and st.head < height:
                out.append(
                    Violation("D1", f"head {st.head} is below the acknowledged block "
                              f"(acknowledged at t={t_ack:.3f})", height, hex_bytes(want), node)
                )  # fmt: skip
                break
            got = st.chain.get(height)
            if got is not None and got != want and st.head >= height:
                out.append(
                    Violation("D1", f"acknowledged block replaced by {got[:18]}… without a "
                              "recorded reorg", height, hex_bytes(want), node)
                )  # fmt: skip
                break
    return out


def _legit(e: dict[str, Any]) -> bool:
    """A reorg fork choice allows (F1/F2): only such a one may replace an acknowledged block."""
    return not switch_violations(
        int(e["old_height"]), hex_bytes(e["old_hash"]), int(e["new_height"]),
        hex_bytes(e["new_hash"]), int(e["ancestor"]),
    )  # fmt: skip


def _restarts(history: History) -> list[Violation]:
    out: list[Violation] = []
    for node in history.nodes():
        best = -1
        best_hash = ""
        pending: float | None = None  # restart time awaiting its first head
        for e in history.of_node(node):
            if e["kind"] == "process" and e.get("action") in ("start", "restart") and best >= 0:
                pending = e["t"]
            elif e["kind"] == "head":
                h = int(e["height"])
                if pending is not None:
                    if h < best:
                        out.append(
                            Violation("D2", f"restarted at head {h} after reporting head {best}",
                                      best, hex_bytes(best_hash) if best_hash else None, node)
                        )  # fmt: skip
                    pending = None
                if h >= best:
                    best, best_hash = h, e["hash"]
    return out
