"""Signed blocks and chains with forks, by the rules of docs/CHAIN_RULES.md, and one invalid
variant per block and chain rule.

Rules of this module:
1. Every valid block is built the way an honest authority builds one: a strictly later slot
   than its parent (C4), the slot's owner as producer (B3), the body committed by ``tx_root``
   (B5), signed over ``sha256(header)`` by the producer's key (B1) — with the framework's
   oracle encodings and BLS, never the node's code.
2. ``invalid_blocks`` breaks exactly one rule per case and says which (``InvalidBlock.rule``;
   ``IMPLIED`` lists what breaking it necessarily breaks too); the oracle must name that rule, which tests/generators checks for every
   rule listed in ``BREAKABLE_RULES``.
3. A fork branches from an ancestor of the main chain with a different body, so its blocks
   have other hashes at the same heights; how deep and how long is generated.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

from hypothesis import strategies as st

from ..oracles import bls
from ..oracles.chain import OBlock, OracleSpec
from ..oracles.chain.encoding import MAX_TX_BYTES, tx_root
from .crypto import Key, key_pool

BREAKABLE_RULES = ("E1", "E2", "B1", "B2", "B3", "B4", "B5", "B6", "C1", "C2", "C3", "C4")
GENESIS_TS = 1_700_000_000_000
#: rules a variant cannot break alone: a producer beyond the authorities owns no slot, a
#: timestamp before genesis is in no later slot than its parent's
IMPLIED: dict[str, frozenset[str]] = {"B2": frozenset({"B3"}), "B4": frozenset({"C4"})}


@functools.cache
def chain_spec(authorities: int = 3, slot_ms: int = 2000, interval: int = 4) -> OracleSpec:
    keys = key_pool()[:authorities]
    return OracleSpec(
        "alys-generated", tuple(k.pk for k in keys), slot_ms, interval, GENESIS_TS, 4096
    )


def chain_specs() -> st.SearchStrategy[OracleSpec]:
    return st.builds(
        chain_spec, st.integers(1, 4), st.sampled_from([1000, 2000]), st.integers(2, 8)
    )


def authority_keys(spec: OracleSpec) -> tuple[Key, ...]:
    by_pk = {k.pk: k for k in key_pool()}
    return tuple(by_pk[pk] for pk in spec.authorities)


def bodies(max_txs: int = 3, max_tx: int = 32) -> st.SearchStrategy[tuple[bytes, ...]]:
    return st.lists(st.binary(min_size=1, max_size=max_tx), max_size=max_txs).map(tuple)


def make_block(spec: OracleSpec, parent: OBlock, slot_gap: int, txs: tuple[bytes, ...]) -> OBlock:
    """The honest child of ``parent`` ``slot_gap`` (≥ 1) slots later."""
    slot = spec.slot_of(parent.timestamp) + slot_gap
    producer = spec.owner(slot)
    b = OBlock(parent.height + 1, parent.hash, spec.genesis_timestamp + slot * spec.slot_ms,
               tx_root(txs), producer, b"", txs)  # fmt: skip
    return sign(spec, b)


def sign(spec: OracleSpec, b: OBlock, key: Key | None = None) -> OBlock:
    key = key or authority_keys(spec)[b.producer % len(spec.authorities)]
    return b.replace(signature=bls.sign(key.sk, b.hash))


@st.composite
def signed_blocks(draw: st.DrawFn, spec: OracleSpec | None = None) -> tuple[OBlock, OBlock]:
    """(parent, valid child): the parent is genesis or an honest block."""
    spec = spec or draw(chain_specs())
    parent = spec.genesis()
    if draw(st.booleans()):
        parent = make_block(spec, parent, draw(st.integers(1, 3)), draw(bodies()))
    return parent, make_block(spec, parent, draw(st.integers(1, 3)), draw(bodies()))


@dataclass(frozen=True)
class Chain:
    spec: OracleSpec
    blocks: tuple[OBlock, ...]  # from genesis
    forks: tuple[tuple[OBlock, ...], ...] = field(default=())  # each branch after its ancestor

    @property
    def head(self) -> OBlock:
        return self.blocks[-1]

    def __repr__(self) -> str:
        forks = [(f[0].height - 1, len(f)) for f in self.forks]
        return f"Chain(height={self.head.height}, forks(ancestor, length)={forks})"


def extend(
    spec: OracleSpec, parent: OBlock, gaps: list[int], txs: list[tuple[bytes, ...]]
) -> list[OBlock]:
    out, p = [], parent
    for gap, body in zip(gaps, txs, strict=False):
        p = make_block(spec, p, gap, body)
        out.append(p)
    return out


@st.composite
def chains(
    draw: st.DrawFn, spec: OracleSpec | None = None, max_height: int = 12, max_forks: int = 2
) -> Chain:
    """A valid chain from genesis with up to ``max_forks`` valid side branches."""
    spec = spec or draw(chain_specs())
    n = draw(st.integers(1, max_height))
    gaps = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    main = [spec.genesis(), *extend(spec, spec.genesis(), gaps, [(b"m%d" % i,) for i in range(n)])]
    forks = []
    for f in range(draw(st.integers(0, max_forks))):
        at = draw(st.integers(0, n - 1))
        length = draw(st.integers(1, max_height))
        fgaps = draw(st.lists(st.integers(1, 3), min_size=length, max_size=length))
        forks.append(
            tuple(extend(spec, main[at], fgaps, [(b"f%d.%d" % (f, i),) for i in range(length)]))
        )
    return Chain(spec, tuple(main), tuple(forks))


@dataclass(frozen=True)
class InvalidBlock:
    rule: str  # the CHAIN_RULES id the block breaks
    how: str
    parent: OBlock
    block: OBlock
    encoded: bytes  # what goes on the wire (differs from block.encode() only for E1)
    spec: OracleSpec | None = None

    def __repr__(self) -> str:
        return f"InvalidBlock({self.rule}: {self.how}, height {self.block.height})"


def _break(rule: str, spec: OracleSpec, parent: OBlock, good: OBlock, variant: int) -> InvalidBlock:
    keys = authority_keys(spec)
    n = len(spec.authorities)

    def resigned(**changes: object) -> OBlock:
        return sign(spec, good.replace(**changes))

    if rule == "E1":
        enc = good.encode()
        bad = [enc + b"\x00", enc[:-1] if good.txs else enc[:100], enc[:84]][variant % 3]
        return InvalidBlock(
            rule, ["trailing byte", "truncated", "header only"][variant % 3], parent, good, bad
        )
    if rule == "E2":
        b = good.replace()
        b.reported_hash = bytes(32) if good.hash != bytes(32) else b"\x01" * 32
        return InvalidBlock(rule, "reported hash is not sha256(header)", parent, b, b.encode())
    if rule == "B1":
        other = keys[(good.producer + 1) % n] if n > 1 else key_pool()[n]
        kind = variant % 3
        b = [sign(spec, good, other), good.replace(signature=bytes(96)),
             good.replace(signature=bls.sign(keys[good.producer].sk, good.hash + b"!"))][kind]  # fmt: skip
        return InvalidBlock(
            rule,
            ["signed by another key", "zero signature", "signed other bytes"][kind],
            parent,
            b,
            b.encode(),
        )
    if rule == "B2":
        b = resigned(producer=n + variant % 3)
        return InvalidBlock(rule, "producer index beyond the authorities", parent, b, b.encode())
    if rule == "B3":
        b = sign(spec, good.replace(producer=(good.producer + 1 + variant % (n - 1)) % n))
        return InvalidBlock(rule, "producer does not own the slot", parent, b, b.encode())
    if rule == "B4":
        b = resigned(timestamp=spec.genesis_timestamp - 1 - variant)
        return InvalidBlock(rule, "timestamp before genesis", parent, b, b.encode())
    if rule == "B5":
        b = resigned(txs=(*good.txs, b"smuggled"))
        return InvalidBlock(rule, "body not committed by tx_root", parent, b, b.encode())
    if rule == "B6":
        size = spec.max_block_bytes + 1 + variant
        txs = tuple(b"x" * min(MAX_TX_BYTES, size - i) for i in range(0, size, MAX_TX_BYTES))
        b = resigned(txs=txs, tx_root=tx_root(txs))
        return InvalidBlock(rule, "body above max_block_bytes", parent, b, b.encode())
    if rule == "C1":
        g = spec.genesis()
        b = g.replace(txs=(b"another spec",), tx_root=tx_root((b"another spec",)))
        return InvalidBlock(rule, "block 0 is not the spec's genesis", g, b, b.encode())
    if rule == "C2":
        b = resigned(height=good.height + 1 + variant % 3)
        return InvalidBlock(rule, "height skips", parent, b, b.encode())
    if rule == "C3":
        b = resigned(parent_hash=bytes(x ^ 0xFF for x in parent.hash))
        return InvalidBlock(rule, "parent_hash is not the parent's hash", parent, b, b.encode())
    if rule == "C4":
        slot = spec.slot_of(parent.timestamp)
        b = resigned(timestamp=parent.timestamp, producer=spec.owner(slot))
        return InvalidBlock(rule, "slot not after the parent's", parent, b, b.encode())
    raise ValueError(f"no invalid variant for rule {rule!r}")


@st.composite
def invalid_blocks(
    draw: st.DrawFn, rules: tuple[str, ...] = BREAKABLE_RULES, spec: OracleSpec | None = None
) -> InvalidBlock:
    """A block breaking exactly one rule of ``rules`` (its id in ``.rule``)."""
    spec = spec or draw(chain_specs())
    rule = draw(st.sampled_from(rules))
    if rule == "B3" and len(spec.authorities) == 1:  # one authority owns every slot
        spec = chain_spec(2, spec.slot_ms, spec.checkpoint_interval)
    parent, good = draw(signed_blocks(spec))
    if rule == "C4" and parent.height == 0:  # a block in genesis's slot would also break B-rules
        parent = good
        good = make_block(spec, parent, 1, ())
    return dataclasses.replace(_break(rule, spec, parent, good, draw(st.integers(0, 5))), spec=spec)
