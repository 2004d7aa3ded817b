"""Real chains built with the reference node's own code (allowed in TEST code only), turned
into oracle blocks through their wire encoding, so the cross-check is byte for byte."""

from __future__ import annotations

import functools

from alys_node.chain.block import Block, make_header
from alys_node.chain.spec import ChainSpec, derive_key
from alys_node.crypto import bls
from alys_test_framework.oracles.chain import ChainOracle, OBlock, OracleSpec

AUTHORITIES = 3


@functools.cache
def node_spec_and_keys(n: int = AUTHORITIES):  # type: ignore[no-untyped-def]
    keys = [derive_key(b"oracle-tests-seed".ljust(32, b"\0"), i) for i in range(n)]
    spec = ChainSpec("oracle-test", tuple(k.public_key for k in keys), slot_ms=1000,
                     checkpoint_interval=10)  # fmt: skip
    return spec, keys


def build(n: int, txs_every: int = 0) -> list[Block]:
    """n blocks after genesis, authorities in turn (each block in the next slot its producer
    owns), some with transactions."""
    spec, keys = node_spec_and_keys()
    parent = spec.genesis()
    out = [parent]
    for i in range(n):
        slot = spec.slot_of(parent.header.timestamp) + 1
        key = keys[spec.producer_of_slot(slot)]
        txs = (f"tx-{i}".encode(), b"x" * (i % 7)) if txs_every and i % txs_every == 0 else ()
        h = make_header(parent.height + 1, parent.hash, spec.slot_start(slot), txs, key.index)
        parent = Block(h, txs, bls.sign(key.secret_key, h.hash()))
        out.append(parent)
    return out


@functools.cache
def chain(n: int = 40) -> tuple[OBlock, ...]:
    return tuple(OBlock.decode(b.encode()) for b in build(n, txs_every=5))


def oracle() -> ChainOracle:
    spec, _ = node_spec_and_keys()
    return ChainOracle(OracleSpec.from_json(spec.to_json()))


def sign(b: OBlock, index: int) -> OBlock:
    """Re-sign ``b`` with authority ``index`` (a valid signature by that key)."""
    _, keys = node_spec_and_keys()
    return b.replace(signature=bls.sign(keys[index].secret_key, b.hash))


def outsider_signature(b: OBlock) -> bytes:
    """A valid BLS signature over the right hash by a key that is not an authority."""
    return bls.sign(derive_key(b"outsider" * 4, 0).secret_key, b.hash)
