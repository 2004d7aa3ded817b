"""Pure block validation rules (no I/O, no signatures: those are batched separately in verify.py).

Split so that sync can check cheap structure/linkage of a whole range on arrival and ship only
signature work to other cores.
"""

from __future__ import annotations

from collections.abc import Sequence

from alys_node.chain.block import Block, Header
from alys_node.chain.merkle import merkle_root, sha256
from alys_node.chain.spec import ChainSpec


class InvalidBlock(ValueError):
    """A block that breaks a consensus rule; the message names the rule and the height."""


def check_structure(block: Block, spec: ChainSpec) -> None:
    h = block.header
    if block.body_size() > spec.max_block_bytes:
        raise InvalidBlock(f"block {h.height}: body {block.body_size()} B > {spec.max_block_bytes}")
    if h.tx_root != merkle_root(block.txs):
        raise InvalidBlock(f"block {h.height}: tx_root does not match the body")
    if h.producer >= len(spec.authorities):
        raise InvalidBlock(f"block {h.height}: producer index {h.producer} out of range")
    if h.timestamp < spec.genesis_timestamp:
        raise InvalidBlock(f"block {h.height}: timestamp before genesis")
    if h.producer != spec.producer_of_slot(spec.slot_of(h.timestamp)):
        raise InvalidBlock(f"block {h.height}: producer {h.producer} does not own its slot")


def check_link(parent: Header, parent_hash: bytes, block: Block, spec: ChainSpec) -> None:
    h = block.header
    if h.height != parent.height + 1:
        raise InvalidBlock(f"block {h.height}: height does not follow parent {parent.height}")
    if h.parent_hash != parent_hash:
        raise InvalidBlock(f"block {h.height}: parent hash mismatch")
    if spec.slot_of(h.timestamp) <= spec.slot_of(parent.timestamp):
        raise InvalidBlock(f"block {h.height}: slot not after parent slot")


def check_range(blocks: Sequence[Block], spec: ChainSpec) -> None:
    """Structure of every block and linkage inside the range (the first block's parent is
    checked at commit time, when it is known)."""
    for i, b in enumerate(blocks):
        check_structure(b, spec)
        if i:
            check_link(blocks[i - 1].header, blocks[i - 1].hash, b, spec)


def next_digest(prev_digest: bytes, block: Block) -> bytes:
    """Cumulative digest over hashes AND signatures, so a store whose signature column was edited
    no longer matches its checkpoints."""
    return sha256(prev_digest + block.hash + block.signature)


def genesis_digest(genesis: Block) -> bytes:
    return sha256(genesis.hash)
