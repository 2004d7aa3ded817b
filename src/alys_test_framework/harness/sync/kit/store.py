"""Tampering with a stopped node's store from outside, the way disk corruption would."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def tamper_store(datadir: Path, height: int) -> str:
    """Edit one stored block header (SQLite store) or flip a byte mid-file (any other store)."""
    for db in sorted(datadir.rglob("*")):
        if db.is_file() and db.read_bytes()[:16] == b"SQLite format 3\x00":
            con = sqlite3.connect(db)
            try:
                row = con.execute(
                    "SELECT header FROM blocks WHERE height = ?", (height,)
                ).fetchone()
                if row is not None:
                    hdr = bytearray(row[0])
                    hdr[-5] ^= 0xFF  # inside tx_root: the header no longer hashes as stored
                    con.execute(
                        "UPDATE blocks SET header = ? WHERE height = ?", (bytes(hdr), height)
                    )
                    con.commit()
                    return f"{db.name}: header of block {height}"
            except sqlite3.Error:
                continue  # not the block store: try the next file
            finally:
                con.close()
    files = sorted((p for p in datadir.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if not files:
        return "no store files"
    big = files[-1]
    data = bytearray(big.read_bytes())
    data[len(data) // 2] ^= 0xFF
    big.write_bytes(bytes(data))
    return f"{big.name}: byte {len(data) // 2}"
