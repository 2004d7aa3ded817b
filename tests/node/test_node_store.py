"""SQLite block store: append/read, reopen, checkpoints, and tamper detection at open."""

from __future__ import annotations

import sqlite3

import pytest

from alys_node.chain.spec import AuthorityKey
from alys_node.store.blockstore import BlockStore, StoreError

from .chainkit import build_chain


@pytest.fixture(scope="module")
def key(spec_dir) -> AuthorityKey:
    return AuthorityKey.load(spec_dir / "authority-0.key")


@pytest.fixture(scope="module")
def chain(spec, key):
    return build_chain(spec, key, 25, txs=(b"tx1", b"tx2"))


def _filled(tmp_path, spec, chain, durable=True) -> BlockStore:
    s = BlockStore(tmp_path, spec, durable=durable)
    s.append(chain[:12])
    s.append(chain[12:])
    return s


def test_append_read_and_checkpoints(tmp_path, spec, chain):
    s = _filled(tmp_path, spec, chain)
    assert s.head_height == 25 and s.head_hash == chain[-1].hash
    blk, received = s.get_by_height(7)
    assert blk == chain[6] and received > 0
    assert s.get_by_hash(chain[3].hash)[0] == chain[3]
    assert s.get_by_height(99) is None
    assert [c.height for c in s.checkpoints()] == [10, 20]
    enc = s.range_encoded(3, 5, 1 << 20)
    assert enc == [b.encode() for b in chain[2:7]]
    assert len(s.range_encoded(1, 25, len(enc[0]) * 2)) == 2  # byte cap
    s.integrity_check()
    s.close()
    again = BlockStore(tmp_path, spec)
    again.integrity_check()
    assert again.head_height == 25
    again.close()


def test_hashes_by_height_inclusive_and_out_of_range(tmp_path, spec, chain):
    s = _filled(tmp_path, spec, chain)
    assert s.hashes(3, 5) == {h: chain[h - 1].hash for h in (3, 4, 5)}
    assert s.hashes(24, 99) == {24: chain[23].hash, 25: chain[24].hash}
    # numbers a peer can send that SQLite cannot key: nothing, never an OverflowError
    assert s.hashes(1 << 63, (1 << 64) - 1) == {} and s.hashes(-5, -1) == {}
    assert s.hashes(25, (1 << 64) - 1) == {25: chain[24].hash}
    assert s.hashes(9, 8) == {}
    s.close()


def test_append_must_extend_head(tmp_path, spec, chain):
    s = BlockStore(tmp_path, spec)
    with pytest.raises(StoreError, match="does not extend"):
        s.append(chain[1:3])
    s.close()


def test_no_durability_bug_loses_uncommitted_blocks(tmp_path, spec, chain):
    s = _filled(tmp_path, spec, chain, durable=False)
    assert s.head_height == 25
    s.db.close()  # crash without the graceful commit
    again = BlockStore(tmp_path, spec)
    assert again.head_height == 0
    again.close()


@pytest.mark.parametrize(
    "sql, needle",
    [
        ("UPDATE blocks SET txs = x'00000000' WHERE height = 5", "tx root"),
        ("UPDATE blocks SET sig = zeroblob(96) WHERE height = 23", "digest"),
        ("UPDATE blocks SET sig = zeroblob(96) WHERE height = 4", "digest"),
        ("UPDATE checkpoints SET digest = zeroblob(32) WHERE height = 10", "checkpoint"),
        ("DELETE FROM blocks WHERE height = 9", "missing block"),
        ("UPDATE blocks SET hash = zeroblob(32) WHERE height = 6", "hash column"),
        ("UPDATE blocks SET header = x'00' WHERE height = 6", "unreadable"),
    ],
)
def test_tampered_store_is_refused(tmp_path, spec, chain, sql, needle):
    _filled(tmp_path, spec, chain).close()
    db = sqlite3.connect(tmp_path / "chain.sqlite")
    db.execute(sql)
    db.commit()
    db.close()
    s = BlockStore(tmp_path, spec)
    with pytest.raises(StoreError, match=needle) as e:
        s.integrity_check()
    assert "tampered" in str(e.value)
    s.close()


def test_store_of_another_chain_is_refused(tmp_path, spec):
    import dataclasses

    BlockStore(tmp_path, spec).close()
    with pytest.raises(StoreError, match="another chain"):
        BlockStore(tmp_path, dataclasses.replace(spec, chain_id="other"))


def test_garbage_file_is_refused(tmp_path, spec):
    (tmp_path / "chain.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        BlockStore(tmp_path, spec)


def test_tampered_tail_with_recomputed_digests_is_caught_by_signatures(tmp_path, spec, chain):
    """A careful tamperer also rewrites the digest column after the last checkpoint; the tail's
    signatures are re-verified at open, so the forgery is still found."""
    from alys_node.chain.validation import next_digest

    _filled(tmp_path, spec, chain).close()
    db = sqlite3.connect(tmp_path / "chain.sqlite")
    db.execute("UPDATE blocks SET sig = ? WHERE height = 23", (chain[0].signature,))
    digest = db.execute("SELECT digest FROM blocks WHERE height = 22").fetchone()[0]
    for b in chain[22:]:
        sig = chain[0].signature if b.height == 23 else b.signature
        digest = next_digest(digest, type(b)(b.header, b.txs, sig))
        db.execute("UPDATE blocks SET digest = ? WHERE height = ?", (digest, b.height))
    db.commit()
    db.close()
    s = BlockStore(tmp_path, spec)
    with pytest.raises(StoreError, match="block 23 has an invalid signature"):
        s.integrity_check()
    s.close()
