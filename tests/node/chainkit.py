"""Helpers to build valid and forged chains in tests (no processes)."""

from __future__ import annotations

from alys_node.chain.block import Block, make_header
from alys_node.chain.spec import AuthorityKey, ChainSpec, derive_key
from alys_node.crypto import bls


def build_chain(
    spec: ChainSpec, key: AuthorityKey, n: int, parent: Block | None = None, txs=()
) -> list[Block]:
    parent = parent or spec.genesis()
    out = []
    for _ in range(n):
        slot = spec.slot_of(parent.header.timestamp) + 1
        slot += (key.index - slot) % len(spec.authorities)
        h = make_header(
            parent.height + 1, parent.hash, spec.slot_start(slot), tuple(txs), key.index
        )
        parent = Block(h, tuple(txs), bls.sign(key.secret_key, h.hash()))
        out.append(parent)
    return out


def outsider_key() -> AuthorityKey:
    """A key that is NOT an authority: its blocks are structurally fine but forged."""
    return derive_key(b"outsider" * 4, 0)
