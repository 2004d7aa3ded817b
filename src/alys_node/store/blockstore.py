"""SQLite block store: WAL journal, one transaction per appended batch, integrity check at open.

WAL + synchronous=FULL means a batch is on disk when ``append`` returns, and a SIGKILL at any
point leaves either the whole batch or none of it. The node acknowledges (RPC reply, sync
progress, gossip) only after ``append`` returns. Each row stores a cumulative digest; every
``checkpoint_interval`` blocks the digest is copied into the checkpoints table, and ``open``
recomputes hashes, links and digests so an edited store is refused instead of served.

Rules for failure (issue #14, D8):
- A write that fails leaves no trace: the transaction is rolled back whatever state SQLite left
  it in (SQLite may already have rolled back itself on SQLITE_FULL), the in-memory head is only
  moved after COMMIT returned, and the next write starts a fresh transaction. So a block whose
  append raised is never part of the chain, now or after a restart.
- The error names its real cause: ``StoreFull`` says "disk full: N bytes free in DATADIR".
- Reads never depend on a write having succeeded, and nothing is latched: when space returns,
  the next append simply works.
- A height outside what SQLite can key (0..2^63-1) is simply not stored: reads answer nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from alys_node.chain.block import Block, Header
from alys_node.chain.codec import Reader, Writer
from alys_node.chain.merkle import merkle_root
from alys_node.chain.spec import ChainSpec
from alys_node.chain.validation import genesis_digest, next_digest

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL,
    sig BLOB NOT NULL, txs BLOB NOT NULL, digest BLOB NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, hash BLOB NOT NULL,
    digest BLOB NOT NULL);
"""


INT64_MAX = (1 << 63) - 1


class StoreError(RuntimeError):
    """The store cannot be used (wrong chain, corrupt or tampered); the node refuses to start."""


class StoreWriteError(RuntimeError):
    """One write failed and was rolled back; the store stays usable (reads, later writes)."""


class StoreFull(StoreWriteError):
    """The write failed for lack of disk space."""


@dataclass(frozen=True)
class Checkpoint:
    height: int
    hash: bytes
    digest: bytes


def _enc_txs(txs: Sequence[bytes]) -> bytes:
    w = Writer().u32(len(txs))
    for t in txs:
        w.var(t)
    return w.getvalue()


def _dec_txs(b: bytes) -> tuple[bytes, ...]:
    r = Reader(b)
    return tuple(r.var(1 << 30) for _ in range(r.count(1 << 30)))


class BlockStore:
    def __init__(self, datadir: str | Path, spec: ChainSpec, durable: bool = True) -> None:
        self.spec = spec
        self.durable = durable
        path = Path(datadir)
        self.path = path / "chain.sqlite"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create datadir {path}: {e.strerror or e}") from None
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=" + ("FULL" if durable else "OFF"))
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open store {self.path}: {e}") from None
        self.genesis = spec.genesis()
        try:
            self._init_meta()
            row = self.db.execute(
                "SELECT height, hash, header, digest FROM blocks ORDER BY height DESC LIMIT 1"
            ).fetchone()
            self.head_height, self.head_hash = row[0], row[1]
            self.head_header = Header.decode(row[2])
            self.head_digest = row[3]
        except (sqlite3.DatabaseError, ValueError, TypeError) as e:
            self.db.close()
            raise self._refuse(f"unreadable head: {e}") from None

    def _init_meta(self) -> None:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        g = self.genesis
        if not meta:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO meta VALUES ('chain_id', ?)", (self.spec.chain_id.encode(),)
            )
            self.db.execute("INSERT INTO meta VALUES ('genesis_hash', ?)", (g.hash,))
            self._insert(g, genesis_digest(g), time.time())
            self.db.execute("COMMIT")
            return
        if meta.get("genesis_hash") != g.hash:
            raise StoreError(
                f"store {self.path} belongs to another chain "
                f"(chain id {meta.get('chain_id', b'?').decode(errors='replace')!r}); "
                "use a fresh --datadir for this chain spec"
            )

    def _insert(self, b: Block, digest: bytes, received_at: float) -> None:
        self.db.execute(
            "INSERT INTO blocks VALUES (?,?,?,?,?,?,?)",
            (
                b.height,
                b.hash,
                b.header.encode(),
                b.signature,
                _enc_txs(b.txs),
                digest,
                received_at,
            ),
        )
        ci = self.spec.checkpoint_interval
        if b.height and b.height % ci == 0:
            self.db.execute("INSERT INTO checkpoints VALUES (?,?,?)", (b.height, b.hash, digest))

    def append(self, blocks: Sequence[Block], received_at: float | None = None) -> None:
        """Append blocks that extend the head (already validated by the caller) in one atomic,
        durable transaction."""
        self._write(blocks, None, received_at)

    def replace_above(self, ancestor: int, blocks: Sequence[Block]) -> None:
        """Fork switch: drop every block above ``ancestor`` and append ``blocks`` (which must
        extend it) in ONE transaction, so a crash leaves either the old or the new branch."""
        self._write(blocks, ancestor, None)

    def _write(
        self, blocks: Sequence[Block], truncate: int | None, received_at: float | None
    ) -> None:
        if not blocks:
            return
        if truncate is None:
            base_h, base_hash, digest = self.head_height, self.head_hash, self.head_digest
        else:
            row = self.db.execute(
                "SELECT hash, digest FROM blocks WHERE height=?", (truncate,)
            ).fetchone()
            if row is None:
                raise StoreError(f"fork ancestor {truncate} is not stored")
            base_h, base_hash, digest = truncate, row[0], row[1]
        if blocks[0].height != base_h + 1 or blocks[0].header.parent_hash != base_hash:
            raise StoreError(f"write of {blocks[0].height} does not extend block {base_h}")
        ts = time.time() if received_at is None else received_at
        try:
            if not self.db.in_transaction:  # the no-durability bug leaves one open on purpose
                self.db.execute("BEGIN IMMEDIATE")
            if truncate is not None:
                self.db.execute("DELETE FROM blocks WHERE height > ?", (truncate,))
                self.db.execute("DELETE FROM checkpoints WHERE height > ?", (truncate,))
            for b in blocks:
                digest = next_digest(digest, b)
                self._insert(b, digest, ts)
            if self.durable:
                self.db.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise self._write_error(e, blocks) from e
        except BaseException:
            self._rollback()
            raise
        last = blocks[-1]
        self.head_height, self.head_hash, self.head_header = last.height, last.hash, last.header
        self.head_digest = digest

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already done so itself."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:  # rolled back meanwhile (SQLITE_FULL can do that)
                pass

    def free_bytes(self) -> int:
        try:
            return shutil.disk_usage(self.path.parent).free
        except OSError:
            return -1

    def _write_error(self, e: sqlite3.Error, blocks: Sequence[Block]) -> StoreWriteError:
        what = f"blocks {blocks[0].height}..{blocks[-1].height} not stored"
        code = getattr(e, "sqlite_errorcode", None)
        full = code == sqlite3.SQLITE_FULL or "disk is full" in str(e)
        if not full and code is not None and code & 0xFF == sqlite3.SQLITE_IOERR:
            full = 0 <= self.free_bytes() < (1 << 20)  # ENOSPC seen as an I/O error
        if full:
            return StoreFull(
                f"disk full: {self.free_bytes()} bytes free in {self.path.parent} ({what})"
            )
        return StoreWriteError(f"store write failed: {e} ({what})")

    @staticmethod
    def _height_ok(h: int) -> bool:
        return 0 <= h <= INT64_MAX

    def _span(self, start: int, count: int) -> tuple[int, int] | None:
        """[start, end) clipped to what SQLite can key, or None if nothing can be there."""
        if not self._height_ok(start) or count <= 0:
            return None
        return start, min(start + count, INT64_MAX)

    def _row_to_block(self, row: tuple) -> Block:
        return Block(Header.decode(row[0]), _dec_txs(row[2]), row[1])

    def get_by_height(self, height: int) -> tuple[Block, float] | None:
        if not self._height_ok(height):
            return None
        row = self.db.execute(
            "SELECT header, sig, txs, received_at FROM blocks WHERE height=?", (height,)
        ).fetchone()
        return (self._row_to_block(row), row[3]) if row else None

    def get_by_hash(self, h: bytes) -> tuple[Block, float] | None:
        row = self.db.execute(
            "SELECT header, sig, txs, received_at FROM blocks WHERE hash=?", (h,)
        ).fetchone()
        return (self._row_to_block(row), row[3]) if row else None

    def has_hash(self, h: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM blocks WHERE hash=?", (h,)).fetchone() is not None

    def range_encoded(self, start: int, count: int, max_bytes: int) -> list[bytes]:
        """Encoded blocks [start, start+count) as stored, cut at max_bytes total: serving sync
        straight from rows avoids decoding and re-encoding on the serving side."""
        out: list[bytes] = []
        total = 0
        span = self._span(start, count)
        if span is None:
            return out
        for header, sig, txs in self.db.execute(
            "SELECT header, sig, txs FROM blocks WHERE height>=? AND height<? ORDER BY height",
            span,
        ):
            enc = header + sig + txs
            if out and total + len(enc) > max_bytes:
                break
            out.append(enc)
            total += len(enc)
        return out

    def headers(self, start: int, count: int) -> list[bytes]:
        span = self._span(start, count)
        if span is None:
            return []
        return [
            r[0]
            for r in self.db.execute(
                "SELECT header FROM blocks WHERE height>=? AND height<? ORDER BY height", span
            )
        ]

    def hashes(self, start: int, end: int) -> dict[int, bytes]:
        """Stored hashes by height for [start, end] (inclusive, as GetHashes asks): the sync
        fork probe compares them with a peer's headers. Heights SQLite cannot key give nothing,
        so a peer's out-of-range numbers never reach the database as an OverflowError."""
        span = self._span(start, end - start + 1)
        if span is None:
            return {}
        rows = self.db.execute("SELECT height, hash FROM blocks WHERE height>=? AND height<?", span)
        return dict(rows.fetchall())

    def checkpoints(self) -> list[Checkpoint]:
        return [
            Checkpoint(*r)
            for r in self.db.execute("SELECT height, hash, digest FROM checkpoints ORDER BY height")
        ]

    def iter_blocks(self) -> Iterator[tuple[Block, bytes, bytes]]:
        """(block, stored hash column, stored digest) in height order."""
        for header, sig, txs, h, digest in self.db.execute(
            "SELECT header, sig, txs, hash, digest FROM blocks ORDER BY height"
        ):
            yield Block(Header.decode(header), _dec_txs(txs), sig), h, digest

    def integrity_check(self, verify_tail: bool = True) -> None:
        """Recompute every hash, link, tx root and digest and compare with the stored checkpoints;
        the signatures after the last checkpoint are re-verified too."""
        try:
            res = self.db.execute("PRAGMA quick_check").fetchone()[0]
            if res != "ok":
                raise StoreError(f"store {self.path} is corrupt: sqlite quick_check: {res}")
            cps = {c.height: c for c in self.checkpoints()}
            prev: Block | None = None
            digest = b""
            expect_h = 0
            for b, stored_hash, stored in self.iter_blocks():
                h = b.height
                if h != expect_h:
                    raise StoreError(f"missing block at height {expect_h}")
                if stored_hash != b.hash:
                    raise StoreError(f"block {h} hash column does not match its header")
                if h == 0:
                    if b.hash != self.genesis.hash:
                        raise StoreError("genesis block differs from the chain spec")
                    digest = genesis_digest(b)
                else:
                    assert prev is not None
                    if b.header.parent_hash != prev.hash:
                        raise StoreError(f"block {h} does not link to block {h - 1}")
                    if b.header.tx_root != merkle_root(b.txs):
                        raise StoreError(f"block {h} body does not match its tx root")
                    digest = next_digest(digest, b)
                if digest != stored:
                    raise StoreError(f"cumulative digest mismatch at height {h}")
                cp = cps.pop(h, None)
                if cp is not None and (cp.hash != b.hash or cp.digest != digest):
                    raise StoreError(f"checkpoint at height {h} does not match the blocks")
                prev = b
                expect_h += 1
            if cps:
                raise StoreError(f"checkpoint at height {min(cps)} has no block")
            if verify_tail and prev is not None and prev.height > 0:
                self._verify_tail(prev.height)
        except StoreError as e:
            raise self._refuse(str(e)) from None
        except (sqlite3.DatabaseError, ValueError) as e:
            raise self._refuse(f"unreadable data: {e}") from None

    def _refuse(self, detail: str) -> StoreError:
        return StoreError(
            f"store integrity check failed ({detail}); {self.path} is corrupt or was tampered "
            "with: restore it or start with a fresh --datadir"
        )

    def _verify_tail(self, head: int) -> None:
        from alys_node.chain.verify import first_invalid, items_of

        ci = self.spec.checkpoint_interval
        start = max(1, (head // ci) * ci)
        blocks = [self.get_by_height(h)[0] for h in range(start, head + 1)]  # type: ignore[index]
        bad = first_invalid(self.spec.authorities, items_of(blocks))
        if bad is not None:
            raise StoreError(f"block {blocks[bad].height} has an invalid signature")

    def close(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
            self.db.close()
        except sqlite3.Error:
            pass
