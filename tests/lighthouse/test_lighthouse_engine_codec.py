"""RLP/trie/keccak against known values, strict Engine API codec, recorded exchanges, schemas, JWT."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from alys_node.engine import codec
from alys_node.engine.jwt_auth import (
    JwtAuthError,
    JwtSecretError,
    bearer_token,
    load_secret,
    make_token,
    verify_token,
    write_secret,
)
from alys_node.engine.rlp import EMPTY_OMMERS_HASH, EMPTY_TRIE_ROOT, encode, keccak256, trie_root
from alys_test_framework.harness.lighthouse import PACKAGED_VECTORS
from alys_test_framework.oracles.engine.conformance import check_recorded, load_recorded, parse_io
from alys_test_framework.oracles.engine.schema import OPENRPC_DIR, schemas

DATA = Path(__file__).resolve().parents[1] / "data" / "lighthouse"
VECTORS = PACKAGED_VECTORS
RECORDED = sorted((VECTORS / "engine_io").glob("*/*.io"))


def test_lighthouse_rlp_known_values() -> None:
    assert encode(b"dog") == b"\x83dog"
    assert encode([b"cat", b"dog"]) == b"\xc8\x83cat\x83dog"
    assert encode(0) == b"\x80" and encode(15) == b"\x0f" and encode(1024) == b"\x82\x04\x00"
    assert encode(b"a" * 56)[:2] == b"\xb8\x38"
    assert keccak256(b"").hex().startswith("c5d2460186f7233c")
    assert (
        EMPTY_TRIE_ROOT.hex() == "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    )
    assert EMPTY_OMMERS_HASH.hex().startswith("1dcc4de8dec75d7a")


def test_lighthouse_trie_root_known_values() -> None:
    # ethereum/tests TrieTests "puppy"/"foo" vectors
    pairs = [(b"do", b"verb"), (b"horse", b"stallion"), (b"doge", b"coin"), (b"dog", b"puppy")]
    assert trie_root(pairs).hex().startswith("5991bb8c6514148a29db676a14ac506c")
    assert trie_root([(b"foo", b"bar"), (b"food", b"bass")]).hex().startswith("17beaa1648bafa63")


def test_lighthouse_mainnet_genesis_block_hash() -> None:
    """keccak256(rlp(header)) reproduces Ethereum mainnet's genesis hash."""
    state_root = bytes.fromhex("d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544")
    extra = bytes.fromhex("11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa")
    header = [b"\x00" * 32, EMPTY_OMMERS_HASH, b"\x00" * 20, state_root, EMPTY_TRIE_ROOT]
    header += [EMPTY_TRIE_ROOT, b"\x00" * 256, 0x400000000, 0, 5000, 0, 0, extra, b"\x00" * 32]
    header.append(bytes.fromhex("0000000000000042"))
    got = keccak256(encode(header)).hex()
    assert got == "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"


def test_lighthouse_recorded_exchanges_present() -> None:
    assert len(RECORDED) >= 3


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_lighthouse_recorded_exchange_canonical(path: Path) -> None:
    ex = parse_io(path)
    assert check_recorded(ex, codec, schemas()) == []
    result = codec.decode_result(ex.request["method"], ex.response["result"])
    assert len(result["payload_id"]) == 8


def test_lighthouse_recorded_mismatch_is_reported(tmp_path: Path) -> None:
    src = RECORDED[0].read_text().replace('"timestamp":"0x264"', '"timestamp":"0x0264"')
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x.io").write_text(src)
    [ex] = load_recorded(tmp_path)
    problems = check_recorded(ex, codec, schemas())
    assert any("does not decode" in p for p in problems)
    assert any("params[1].timestamp" in p for p in problems)


def test_lighthouse_codec_is_strict() -> None:
    with pytest.raises(codec.CodecError, match="canonical QUANTITY"):
        codec.decode("u64", "0x01")
    with pytest.raises(codec.CodecError, match="exceeds 64 bits"):
        codec.decode("u64", hex(2**64))
    with pytest.raises(codec.CodecError, match="expected 32 bytes"):
        codec.decode("hash32", "0x1234")
    with pytest.raises(codec.CodecError, match="unknown field"):
        codec.decode_object(
            "WithdrawalV1",
            {
                "index": "0x1",
                "validatorIndex": "0x1",
                "address": "0x" + "00" * 20,
                "amount": "0x1",
                "x": 1,
            },
        )
    with pytest.raises(codec.CodecError, match="expected 1..1 params"):
        codec.decode_params("engine_getPayloadV1", [])
    assert codec.encode("u256", 0) == "0x0" and codec.encode("bytes", b"\xab") == "0xab"


def test_lighthouse_schema_examples_validate() -> None:
    sch = schemas()
    checked = 0
    for name, spec in sch.methods.items():
        for ex in spec.get("examples", []):
            params = [p["value"] for p in ex["params"]]
            assert sch.validate_params(name, params) == []
            assert sch.validate_result(name, ex["result"]["value"]) == []
            again = codec.encode_params(name, codec.decode_params(name, params))
            assert again == params
            checked += 1
    assert checked >= 4
    bad = {"payloadStatus": {"status": "ACCEPTED", "latestValidHash": None}}
    assert sch.validate_result("engine_forkchoiceUpdatedV1", bad)  # ACCEPTED not allowed here


def test_lighthouse_packaged_schemas_match_vectors() -> None:
    pkg = OPENRPC_DIR
    src = DATA / "engine_schema" / "src" / "engine" / "openrpc"
    for kind, names in (
        ("schemas", ("payload", "forkchoice", "capabilities", "blob")),
        ("methods", ("forkchoice", "capabilities")),
    ):
        for n in names:
            packaged = pkg.joinpath(f"{kind[:-1] if kind == 'schemas' else kind}_{n}.yaml")
            assert packaged.read_text() == (src / kind / f"{n}.yaml").read_text()


def test_lighthouse_jwt_rules(tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "jwt.hex")
    assert load_secret(tmp_path / "jwt.hex") == secret
    assert (tmp_path / "jwt.hex").stat().st_mode & 0o777 == 0o600
    now = time.time()
    verify_token(secret, make_token(secret, iat=now - 59), now=now)
    for iat in (now - 61, now + 61):
        with pytest.raises(JwtAuthError, match="allowed"):
            verify_token(secret, make_token(secret, iat=iat), now=now)
    with pytest.raises(JwtAuthError, match="invalid token"):
        verify_token(secret, make_token(b"\x01" * 32), now=now)
    with pytest.raises(JwtAuthError):
        bearer_token("Basic abc")
    (tmp_path / "bad.hex").write_text("0x1234")
    with pytest.raises(JwtSecretError, match="64 hex digits"):
        load_secret(tmp_path / "bad.hex")
    with pytest.raises(JwtSecretError, match="cannot read"):
        load_secret(tmp_path / "missing.hex")
