"""Checker: every node's chain is valid per the independent oracle (E2, B1–B6, C1–C4).

Rules: the node's final chain (heights 0..head as last observed) is judged as a chain from
genesis; every block the node held at any time but no longer holds (reorged out, lost) is
judged by itself and against its recorded parent. Blocks are judged whichever path brought
them (gossip, ranges, restarts): the history does not care how a block arrived.
"""

from __future__ import annotations

from ..oracles.chain import ChainOracle, OBlock, Violation
from ..oracles.chain.encoding import hex_bytes
from .history import History


def check_chains_valid(history: History, oracle: ChainOracle) -> list[Violation]:
    out: list[Violation] = []
    for node in history.nodes():
        st = history.final_state(node)
        if st.head < 0:
            continue
        blocks: list[OBlock] = []
        for h in range(st.head + 1):
            hh = st.chain.get(h)
            b = history.block(hh, node) if hh else None
            if b is None:
                out.append(
                    Violation("C2", "no block observed at this height of the chain", h,
                              hex_bytes(hh) if hh else None, node)
                )  # fmt: skip
                continue
            blocks.append(b)
        out += [v.at(node) for v in _judge_runs(oracle, blocks)]
        held = {e["hash"] for e in history.of_node(node, "block")}
        gone = sorted(held - set(st.chain.values()))
        orphans = [b for b in (history.block(x, node) for x in gone) if b is not None]
        for b in orphans:
            out += [v.at(node) for v in oracle.block_violations(b)]
            pinfo = history.parent_of("0x" + b.parent_hash.hex())
            parent = history.block("0x" + b.parent_hash.hex(), node) if pinfo else None
            if parent is not None:
                out += [v.at(node) for v in oracle.link_violations(parent, b)]
        out += [v.at(node) for v in oracle.signature_violations(orphans)]
    return out


def _judge_runs(oracle: ChainOracle, blocks: list[OBlock]) -> list[Violation]:
    """Judge contiguous runs (a missing height was already reported as C2)."""
    out: list[Violation] = []
    run: list[OBlock] = []
    anchor: OBlock | None = None
    for b in blocks:
        if run and b.height != run[-1].height + 1:
            out += oracle.judge_chain(run, anchor=anchor)
            anchor, run = None, []
        run.append(b)
    if run:
        if run[0].height != 0 and anchor is None:
            out += oracle.judge_chain(run[1:], anchor=run[0]) + oracle.block_violations(run[0])
            out += oracle.signature_violations(run[:1])
        else:
            out += oracle.judge_chain(run, anchor=anchor)
    return out
