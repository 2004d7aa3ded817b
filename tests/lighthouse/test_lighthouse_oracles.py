"""The framework's Engine and SSZ oracles: spec vectors, independent agreement, spec fixes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from alys_node.engine import codec as node_codec
from alys_node.engine.rlp import ordered_trie_root as node_ordered_trie_root
from alys_node.engine.state import ExecutionState, ForkSchedule
from alys_test_framework.harness.lighthouse.kit import PACKAGED_VECTORS, ssz_cases
from alys_test_framework.oracles import ssz
from alys_test_framework.oracles.engine import codec as spec_codec
from alys_test_framework.oracles.engine.blockhash import block_object_hash, payload_block_hash
from alys_test_framework.oracles.engine.forks import schedule_for
from alys_test_framework.oracles.engine.schema import schemas
from alys_test_framework.oracles.engine.trie import EMPTY_TRIE_ROOT, ordered_trie_root
from alys_test_framework.targets.engine.genesis import geth_genesis

Z32 = "0x" + "00" * 32


def test_oracle_block_hash_reproduces_mainnet_genesis() -> None:
    """An eth_getBlockByNumber-shaped mainnet block 0 hashes to 0xd4e5…8fa3 (yellow paper)."""
    block = {
        "parentHash": Z32,
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "miner": "0x" + "00" * 20,
        "stateRoot": "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544",
        "transactionsRoot": "0x" + EMPTY_TRIE_ROOT.hex(),
        "receiptsRoot": "0x" + EMPTY_TRIE_ROOT.hex(),
        "logsBloom": "0x" + "00" * 256,
        "difficulty": "0x400000000",
        "number": "0x0",
        "gasLimit": "0x1388",
        "gasUsed": "0x0",
        "timestamp": "0x0",
        "extraData": "0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa",
        "mixHash": Z32,
        "nonce": "0x0000000000000042",
    }
    want = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
    assert block_object_hash(block) == want
    assert EMPTY_TRIE_ROOT.hex().startswith("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996c")


def test_oracle_trie_agrees_with_an_independent_implementation() -> None:
    rng = random.Random(7)
    for size in (0, 1, 2, 3, 15, 16, 17, 130):
        values = [rng.randbytes(rng.randrange(1, 80)) for _ in range(size)]
        assert ordered_trie_root(values) == node_ordered_trie_root(values), size


@pytest.mark.parametrize("fork_block", [(1, 1), (3, 5), (100, 200)])
def test_oracle_block_hash_agrees_with_embedded_blocks(fork_block: tuple[int, int]) -> None:
    """Blocks of every fork (withdrawals included), hashed from engine JSON by the oracle."""
    sched = schedule_for(*fork_block)
    st = ExecutionState(ForkSchedule(sched.capella_time, sched.deneb_time, sched.genesis_time))
    head = st.blocks[st.head]
    for n in range(1, 7):
        ts = sched.block_time(n)
        fork = sched.fork_at(ts)
        attrs: dict[str, Any] = {
            "timestamp": ts,
            "prev_randao": bytes([n]) * 32,
            "suggested_fee_recipient": bytes([n]) * 20,
        }
        if fork != "bellatrix":
            attrs["withdrawals"] = [
                {"index": i, "validator_index": n, "address": b"\x11" * 20, "amount": 10**9 + i}
                for i in range(n % 3)
            ]
        if fork == "deneb":
            attrs["parent_beacon_block_root"] = bytes([n]) * 32
        version = {"bellatrix": 1, "capella": 2, "deneb": 3}[fork]
        fcs = {"head_block_hash": head.hash, "safe_block_hash": head.hash}
        pid = st.forkchoice_updated(version, dict(fcs, finalized_block_hash=b"\0" * 32), attrs)[
            "payload_id"
        ]
        block = st.built[pid]
        shape = {1: "ExecutionPayloadV1", 2: "ExecutionPayloadV2", 3: "ExecutionPayloadV3"}[version]
        as_json = node_codec.encode_object(shape, node_codec.payload_from_ssz(block.payload))
        root = (
            "0x" + block.parent_beacon_block_root.hex() if block.parent_beacon_block_root else None
        )
        assert payload_block_hash(as_json, root) == "0x" + block.hash.hex()
        assert block_object_hash(st.block_object(block) or {}) == "0x" + block.hash.hex()
        st.blocks[block.hash] = block
        head = block


def test_oracle_ssz_roots_match_every_vector() -> None:
    cases = ssz_cases(PACKAGED_VECTORS)
    assert len(cases) >= 20
    for case in cases:
        assert ssz.hash_tree_root(case.fork, case.name, case.value(), case.preset) == case.root()


def test_oracle_ssz_refuses_unknown_and_missing_fields() -> None:
    [case] = [c for c in ssz_cases(PACKAGED_VECTORS) if c.label == "capella/Withdrawal/case_0"]
    value = case.value()
    with pytest.raises(ValueError, match="unknown"):
        ssz.from_obj("capella", "Withdrawal", dict(value, extra=1))
    with pytest.raises(ValueError, match="missing"):
        ssz.from_obj("capella", "Withdrawal", {k: v for k, v in value.items() if k != "amount"})


def _status(status: str) -> dict[str, Any]:
    return {"status": status, "latestValidHash": None, "validationError": "bad hash"}


def test_invalid_block_hash_is_a_v1_answer_only() -> None:
    """paris.md allows INVALID_BLOCK_HASH from newPayloadV1; shanghai.md supplants it by INVALID."""
    sch = schemas()
    v1 = _status("INVALID_BLOCK_HASH")
    assert sch.validate_result("engine_newPayloadV1", v1) == []
    assert spec_codec.decode_result("engine_newPayloadV1", v1)["status"] == "INVALID_BLOCK_HASH"
    assert node_codec.decode_result("engine_newPayloadV1", v1)["status"] == "INVALID_BLOCK_HASH"
    for method in ("engine_newPayloadV2", "engine_newPayloadV3"):
        assert sch.validate_result(method, v1)
        with pytest.raises(spec_codec.CodecError):
            spec_codec.decode_result(method, v1)
        with pytest.raises(node_codec.CodecError):
            node_codec.decode_result(method, v1)
    # forkchoiceUpdated answers RestrictedPayloadStatusV1: VALID, INVALID or SYNCING only
    accepted = {"payloadStatus": _status("ACCEPTED"), "payloadId": None}
    assert sch.validate_result("engine_forkchoiceUpdatedV1", accepted)
    with pytest.raises(spec_codec.CodecError):
        spec_codec.decode_result("engine_forkchoiceUpdatedV1", accepted)


def test_interop_genesis_follows_the_schedule() -> None:
    sched = schedule_for(10, 20)
    g = geth_genesis(sched)
    assert g["config"]["terminalTotalDifficulty"] == 0
    assert g["config"]["shanghaiTime"] == sched.block_time(10)
    assert g["config"]["cancunTime"] == sched.block_time(20)
    assert int(g["timestamp"], 16) == sched.genesis_time
