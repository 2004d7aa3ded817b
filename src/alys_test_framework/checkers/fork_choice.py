"""Checker: every head change obeys fork choice (F1–F4), ties included.

Rules: each recorded reorg is judged by ``oracles.chain.fork_choice.switch_violations`` (strictly
longer, ≤ 64 deep); a head that goes down without a reorg while the process kept running is F3
(across a restart it is D2's business); at the end the head must be the fork-choice pick among
every tip the node held (F4), the ancestor of each found by walking recorded parent links.
"""

from __future__ import annotations

from ..oracles.chain import MAX_REORG, Branch, Violation, fork_choice_violations
from ..oracles.chain.encoding import hex_bytes
from ..oracles.chain.fork_choice import switch_violations
from .history import History


def check_fork_choice(history: History) -> list[Violation]:
    out: list[Violation] = []
    for node in history.nodes():
        prev: tuple[int, str] | None = None
        restarted = False
        tips: dict[str, int] = {}
        for e in history.of_node(node, "head", "reorg", "process"):
            if e["kind"] == "process":
                restarted = restarted or e.get("action") in ("start", "restart", "kill", "stop")
                continue
            if e["kind"] == "reorg":
                if restarted and int(e["new_height"]) < int(e["old_height"]):
                    continue  # a restart that lost blocks is D2's, not a fork switch
                out += [
                    v.at(node)
                    for v in switch_violations(
                        int(e["old_height"]), hex_bytes(e["old_hash"]),
                        int(e["new_height"]), hex_bytes(e["new_hash"]), int(e["ancestor"]),
                    )
                ]  # fmt: skip
                continue
            h, hh = int(e["height"]), e["hash"]
            tips[hh] = h
            if prev is not None and h < prev[0] and not restarted:
                out.append(Violation("F3", f"head went down from {prev[0]} to {h} without a "
                                     "fork switch", h, hex_bytes(hh), node))  # fmt: skip
            restarted = False
            prev = (h, hh)
        if prev is None:
            continue
        st = history.final_state(node)
        on_chain = set(st.chain.values())
        offered = []
        for tip, th in tips.items():
            if tip in on_chain:
                continue
            anc = _ancestor(history, tip, on_chain)
            offered.append(Branch(th, hex_bytes(tip), anc if anc is not None else -(10**9)))
        out += [
            v.at(node) for v in fork_choice_violations(st.head, hex_bytes(st.head_hash), offered)
        ]
    return out


def _ancestor(history: History, tip: str, on_chain: set[str]) -> int | None:
    cur = tip
    for _ in range(MAX_REORG + 2):
        info = history.parent_of(cur)
        if info is None:
            return None
        height, parent = info
        if parent in on_chain:
            return height - 1
        cur = parent
    return None
