"""The chain oracle: accepts every block of a real reference-node chain, and for every rule of
docs/CHAIN_RULES.md (E, B, C, K) rejects an invalid case naming that rule id."""

from __future__ import annotations

import struct

import pytest

from alys_node.chain.validation import next_digest
from alys_node.store.blockstore import BlockStore
from alys_test_framework.oracles.chain import CheckpointView, OBlock, OracleSpec, Violation
from alys_test_framework.oracles.chain.encoding import tx_root

from .oracle_kit import build, chain, node_spec_and_keys, oracle, outsider_signature, sign


def rules(vs: list[Violation]) -> set[str]:
    return {v.rule for v in vs}


def test_accepts_every_block_of_a_real_chain() -> None:
    o = oracle()
    blocks = list(chain(40))
    assert o.judge_chain(blocks) == []
    spec, _ = node_spec_and_keys()
    assert o.genesis.hash == spec.genesis().hash  # own genesis encoding, same bytes
    assert [b.hash for b in blocks] == [b.hash for b in build(40, txs_every=5)]


def test_accepts_the_rpc_json_form_and_a_stored_chain(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec, _ = node_spec_and_keys()
    node_blocks = build(25, txs_every=3)
    store = BlockStore(tmp_path, spec)
    store.append(node_blocks[1:])
    stored = [OBlock.from_json(store.get_by_height(h)[0].to_json()) for h in range(26)]
    o = oracle()
    assert o.judge_chain(stored) == []
    cps = [CheckpointView(c.height, c.hash, c.digest) for c in store.checkpoints()]
    assert [c.height for c in cps] == [10, 20]
    assert o.checkpoint_violations(stored, cps) == []
    store.close()


def _one(o, blocks, i, new):  # type: ignore[no-untyped-def]
    bl = list(blocks)
    bl[i] = new
    return o.judge_chain(bl)


CASES = {
    "B1-outsider": lambda b: b.replace(signature=outsider_signature(b)),
    "B1-garbage": lambda b: b.replace(signature=b"\x01" * 96),
    "B1-zero": lambda b: b.replace(signature=b"\x00" * 96),
    "B2": lambda b: b.replace(producer=7),
    "B3": lambda b: b.replace(producer=(b.producer + 1) % 3),
    "B4": lambda b: b.replace(timestamp=1_000),
    "B5": lambda b: b.replace(txs=(b"smuggled",)),
    "C3": lambda b: b.replace(parent_hash=b"\x11" * 32),
    "C2": lambda b: b.replace(height=b.height + 5),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_block_rule_has_an_invalid_case_named_by_id(case: str) -> None:
    o = oracle()
    blocks = chain(40)
    bad = CASES[case](blocks[20])
    got = rules(_one(o, blocks, 20, bad))
    assert case.split("-")[0] in got, got


def test_b1_names_the_block_even_if_it_is_re_signed_validly_by_another_authority() -> None:
    o = oracle()
    blocks = list(chain(40))
    b = blocks[7]
    other = (b.producer + 1) % 3
    vs = _one(o, blocks, 7, sign(b, other))
    assert [(v.rule, v.height) for v in vs] == [("B1", 7)]
    assert str(vs[0]).startswith("[B1] height 7 block 0x")


def test_b1_catches_two_signatures_swapped_between_blocks() -> None:
    """Errors that cancel in an unrandomised aggregate must not pass the batch."""
    o = oracle()
    blocks = list(chain(40))
    i, j = 3, 6  # same producer (slots rotate over 3 authorities)
    assert blocks[i].producer == blocks[j].producer
    si, sj = blocks[i].signature, blocks[j].signature
    blocks[i], blocks[j] = blocks[i].replace(signature=sj), blocks[j].replace(signature=si)
    assert sorted((v.rule, v.height) for v in o.judge_chain(blocks)) == [("B1", 3), ("B1", 6)]


def test_b1_finds_every_bad_block_in_a_batch_larger_than_one_batch() -> None:
    o = oracle()
    blocks = list(chain(300))
    for i in (1, 150, 299):
        blocks[i] = blocks[i].replace(signature=blocks[i - 1 if i > 1 else 2].signature)
    got = [(v.rule, v.height) for v in o.judge_chain(blocks)]
    assert got == [("B1", 1), ("B1", 150), ("B1", 299)]


def test_b6_body_over_max_block_bytes() -> None:
    spec, _ = node_spec_and_keys()
    d = spec.to_json() | {"max_block_bytes": 8}
    from alys_test_framework.oracles.chain import ChainOracle

    small = ChainOracle(OracleSpec.from_json(d))
    b = chain(40)[6]  # block 6 carries b"tx-5" + b"xxxxx" (9 bytes)
    assert b.txs and b.body_size() > 8
    assert "B6" in rules(small.block_violations(b))


def test_c1_wrong_genesis() -> None:
    o = oracle()
    blocks = list(chain(5))
    g = blocks[0]
    blocks[0] = g.replace(txs=(b"another spec",), tx_root=tx_root((b"another spec",)))
    assert "C1" in rules(o.judge_chain(blocks))


def test_c2_gap_and_c4_slot_order() -> None:
    o = oracle()
    blocks = list(chain(10))
    assert "C2" in rules(o.judge_chain(blocks[:4] + blocks[5:]))
    spec, _ = node_spec_and_keys()
    b = blocks[4]
    same_slot = b.replace(timestamp=blocks[3].timestamp + 1)  # still producer? owner check too
    assert "C4" in rules(o.link_violations(blocks[3], same_slot))


def test_e1_malformed_encodings() -> None:
    o = oracle()
    enc = chain(10)[5].encode()
    cases = {
        "truncated": enc[:-1],
        "trailing": enc + b"\x00",
        "short": enc[:50],
        "too many txs": enc[: 84 + 96] + struct.pack(">I", 10_001),
        "oversized tx": enc[: 84 + 96] + struct.pack(">II", 1, 70_000) + b"x" * 70_000,
    }
    for name, data in cases.items():
        blk, vs = o.decode(data)
        assert blk is None and rules(vs) == {"E1"}, name
    assert o.decode(enc)[1] == []


def test_e2_reported_hash_that_is_not_the_header_hash() -> None:
    o = oracle()
    d = chain(10)[3].to_json() | {"hash": "0x" + "ab" * 32}
    assert rules(o.judge_chain(list(chain(10)[:3]) + [OBlock.from_json(d)])) == {"E2"}


def test_k_rules_on_checkpoints() -> None:
    o = oracle()
    blocks = list(chain(40))
    digests = o.digests(blocks)
    good = [CheckpointView(h, blocks[h].hash, digests[h]) for h in (10, 20, 30, 40)]
    assert o.checkpoint_violations(blocks, good) == []
    assert rules(o.checkpoint_violations(blocks, good[:2] + good[3:])) == {"K1"}
    assert rules(
        o.checkpoint_violations(blocks, good + [CheckpointView(15, blocks[15].hash, digests[15])])
    ) == {"K1"}
    wrong_hash = good[:1] + [CheckpointView(20, blocks[19].hash, digests[20])] + good[2:]
    assert rules(o.checkpoint_violations(blocks, wrong_hash)) == {"K2"}
    wrong_digest = good[:1] + [CheckpointView(20, blocks[20].hash, digests[19])] + good[2:]
    assert rules(o.checkpoint_violations(blocks, wrong_digest)) == {"K3"}


def test_digest_matches_the_reference_store_formula() -> None:
    o = oracle()
    node = build(12, txs_every=5)
    d = o.digests(list(chain(12)))
    ref = [__import__("hashlib").sha256(node[0].hash).digest()]
    for b in node[1:]:
        ref.append(next_digest(ref[-1], b))
    assert d == ref


def test_decoded_oracle_block_reencodes_to_the_same_bytes() -> None:
    for b in build(12, txs_every=2):
        assert OBlock.decode(b.encode()).encode() == b.encode()
