"""Signature rules of a block range: which block is the first whose signature does not verify.

Batch verification (one multi-pairing for a whole range) is several times cheaper than one
verification per block; when a batch fails we fall back to per-block checks only to name the
culprit. Where this runs (inline, a thread, a process pool) is I/O and lives in
``alys_node.verification``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alys_node.chain.block import Block
from alys_node.crypto import bls

Item = tuple[int, bytes, bytes]  # (producer index, signed message = header hash, signature)


def first_invalid(pks: Sequence[bytes], items: Sequence[Item]) -> int | None:
    """Index of the first item whose signature is invalid, or None if all verify."""
    for i, (p, _m, _s) in enumerate(items):
        if p >= len(pks):
            return i
    if not items:
        return None
    try:
        ok = bls.verify_batch([(pks[p], m, s) for p, m, s in items])
    except Exception:
        ok = False
    if ok:
        return None
    for i, (p, m, s) in enumerate(items):
        try:
            if not bls.verify(pks[p], m, s):
                return i
        except Exception:
            return i
    return None  # batch said no but every single check passed: trust the single checks


def items_of(blocks: Sequence[Block]) -> list[Item]:
    return [(b.header.producer, b.hash, b.signature) for b in blocks]
