"""Block encoding, Merkle roots, chain spec and the pure validation rules."""

from __future__ import annotations

import dataclasses
import json

import pytest

from alys_node.chain.block import Block, Header
from alys_node.chain.codec import DecodeError
from alys_node.chain.merkle import EMPTY_ROOT, merkle_root, tx_hash
from alys_node.chain.spec import AuthorityKey, ChainSpec, SpecError
from alys_node.chain.validation import InvalidBlock, check_link, check_range, check_structure
from alys_node.chain.verify import first_invalid, items_of

from .chainkit import build_chain, outsider_key


@pytest.fixture(scope="module")
def key(spec_dir) -> AuthorityKey:
    return AuthorityKey.load(spec_dir / "authority-0.key")


def test_block_roundtrip_and_hash_covers_header_only(spec, key):
    b = build_chain(spec, key, 1, txs=(b"a", b"bc"))[0]
    again = Block.decode(b.encode())
    assert again == b and again.hash == b.hash
    assert Header.decode(b.header.encode()) == b.header
    resigned = dataclasses.replace(b, signature=b"\x01" * 96)
    assert resigned.hash == b.hash  # the signature is not part of what is signed


def test_decode_rejects_truncation_and_trailing_bytes(spec, key):
    enc = build_chain(spec, key, 1, txs=(b"x",))[0].encode()
    for cut in (0, 10, len(enc) - 1):
        with pytest.raises(DecodeError):
            Block.decode(enc[:cut])
    with pytest.raises(DecodeError):
        Block.decode(enc + b"\x00")


def test_merkle_root_properties():
    assert merkle_root([]) == EMPTY_ROOT
    assert merkle_root([b"a"]) != tx_hash(b"a")  # a root is never a bare leaf hash
    assert merkle_root([b"a", b"b"]) != merkle_root([b"b", b"a"])
    # duplicated last leaf must not collide with the odd-length list (CVE-2012-2459 shape)
    assert merkle_root([b"a", b"b", b"c"]) != merkle_root([b"a", b"b", b"c", b"c"])
    assert merkle_root([b"a", b"b", b"c"]) != merkle_root([b"a", b"b"])


def test_spec_roundtrip_and_genesis_commits_to_spec(spec, tmp_path):
    p = tmp_path / "s.json"
    spec.save(p)
    assert ChainSpec.load(p) == spec
    other = dataclasses.replace(spec, chain_id="other")
    assert other.genesis().hash != spec.genesis().hash


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"authorities": []}', "missing field"),
        ('{"chain_id": "x", "authorities": ["0x12"]}', "48 bytes"),
        ('{"chain_id": "x", "authorities": ["zz"]}', "not valid hex"),
    ],
)
def test_bad_spec_files_give_one_clear_error(tmp_path, content, needle):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(SpecError, match=needle):
        ChainSpec.load(p)
    with pytest.raises(SpecError, match="cannot read"):
        ChainSpec.load(tmp_path / "missing.json")


def test_valid_chain_passes_structure_and_links(spec, key):
    chain = build_chain(spec, key, 5)
    check_range(chain, spec)
    g = spec.genesis()
    check_link(g.header, g.hash, chain[0], spec)
    assert first_invalid(spec.authorities, items_of(chain)) is None


def test_rule_violations_are_named(spec, key):
    b = build_chain(spec, key, 2)
    g = spec.genesis()
    bad_root = dataclasses.replace(
        b[0], header=dataclasses.replace(b[0].header, tx_root=b"\1" * 32)
    )
    with pytest.raises(InvalidBlock, match="tx_root"):
        check_structure(bad_root, spec)
    with pytest.raises(InvalidBlock, match="producer"):
        check_structure(
            dataclasses.replace(b[0], header=dataclasses.replace(b[0].header, producer=5)), spec
        )
    with pytest.raises(InvalidBlock, match="parent hash"):
        check_link(g.header, b"\2" * 32, b[0], spec)
    with pytest.raises(InvalidBlock, match="height"):
        check_link(g.header, g.hash, b[1], spec)
    big = dataclasses.replace(spec, max_block_bytes=3)
    fat = build_chain(big, key, 1, txs=(b"abcd",))[0]
    with pytest.raises(InvalidBlock, match="body"):
        check_structure(fat, big)


def test_forged_signature_is_located(spec, key):
    chain = build_chain(spec, key, 6)
    forged = build_chain(spec, outsider_key(), 1, parent=chain[2])[0]
    items = items_of(chain[:3] + [forged])
    assert first_invalid(spec.authorities, items) == 3
    garbage = items_of(chain[:2]) + [(0, chain[2].hash, b"\xff" * 96)]
    assert first_invalid(spec.authorities, garbage) == 2


def test_key_file_errors(tmp_path):
    p = tmp_path / "k.key"
    p.write_text(json.dumps({"index": 0}))
    with pytest.raises(SpecError, match="malformed"):
        AuthorityKey.load(p)


def test_verifier_pool_finds_forgeries_and_survives_a_dead_worker(spec_dir):
    """Runs in a child process: the pool's helper processes then end with it."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("verifier_probe.py")
    r = subprocess.run(
        [sys.executable, str(script), str(spec_dir)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr[-2000:]
