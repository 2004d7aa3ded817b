"""Checker: checkpoints agree with the chain (K1–K3), also after reorgs.

Rules: the last checkpoint list a node reported is judged in full against its final chain by
the oracle (K1 all multiples present and no other, K2 hashes, K3 cumulative digests). Each
earlier list is judged for K1 (a multiple at or below the head observed just before it is
missing) and K2 (a hash differs from the chain observed then), except at heights a reorg of
that node changed within the observation's neighbourhood (head and list are two RPC reads).
A list carries ``head_after``, the head read right after it: checkpoints above the final
chain's head but at or below ``head_after`` were made while the list was read and are not
judged against a chain that does not have their blocks yet.
"""

from __future__ import annotations

from ..oracles.chain import ChainOracle, CheckpointView, OBlock, Violation
from ..oracles.chain.encoding import hex_bytes
from .history import History


def _views(cps: list[dict[str, str]]) -> list[CheckpointView]:
    return [
        CheckpointView(int(c["height"]), hex_bytes(c["hash"], 32), hex_bytes(c["digest"], 32))
        for c in cps
    ]


def check_checkpoints(history: History, oracle: ChainOracle) -> list[Violation]:
    out: list[Violation] = []
    ci = oracle.spec.checkpoint_interval
    for node in history.nodes():
        obs = history.of_node(node, "checkpoints")
        if not obs:
            continue
        reorgs = history.of_node(node, "reorg")
        last_obs = obs[-1]
        st = None
        for e, s in history.replay_with(node, "checkpoints"):
            if e["kind"] != "checkpoints" or e is last_obs:
                continue
            st = s
            near = [r for r in reorgs if abs(r["t"] - e["t"]) < 1.0]
            low = min((int(r["ancestor"]) for r in near), default=None)
            have = {c.height: c for c in _views(e["checkpoints"])}
            for h in range(ci, st.head + 1, ci):
                if low is not None and h > low:
                    break
                c = have.get(h)
                if c is None:
                    out.append(
                        Violation("K1", f"no checkpoint at {h} with head {st.head}", h, None, node)
                    )
                elif st.chain.get(h) and "0x" + c.hash.hex() != st.chain[h]:
                    out.append(
                        Violation("K2", "checkpoint hash is not the chain's block", h, c.hash, node)
                    )
        st = history.final_state(node)
        blocks: list[OBlock] = []
        for h in range(st.head + 1):
            b = history.block(st.chain.get(h, ""), node)
            if b is None:
                break
            blocks.append(b)
        if st.head >= 0 and len(blocks) == st.head + 1:  # a chain observed in full
            last = _views(obs[-1]["checkpoints"])
            moved = obs[-1].get("head_after")
            if moved is not None and int(moved) > st.head:  # made after the chain we saw
                last = [c for c in last if c.height <= st.head]
            out += [v.at(node) for v in oracle.checkpoint_violations(blocks, last)]
    return out
