"""The byte encodings of docs/CHAIN_RULES.md, written from the doc (never from alys_node).

Rules of this module:
1. Integers are big-endian, fixed width; variable fields are ``u32 length ‖ bytes``.
2. Header = ``u64 height ‖ parent[32] ‖ u64 timestamp ‖ tx_root[32] ‖ u32 producer`` (84
   bytes); block hash = sha256(header); the signature signs exactly those 32 hash bytes.
3. Block = header ‖ signature[96] ‖ u32 n ‖ (u32 len ‖ tx)*n, n ≤ 10,000, tx ≤ 64 KiB, body
   ≤ 1 MiB while decoding, no trailing bytes (rule E1). Decoding raises ``EncodingError``.
4. Tx root: empty → sha256(b""); leaves sha256(0x00‖tx); inner sha256(0x01‖l‖r), odd last node
   paired with itself; root sha256(0x02 ‖ u64 n ‖ top).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HEADER = struct.Struct(">Q32sQ32sI")
HEADER_LEN = HEADER.size  # 84
SIG_LEN = 96
HASH_LEN = 32
MAX_TXS = 10_000
MAX_TX_BYTES = 64 * 1024
MAX_DECODED_BODY = 16 * MAX_TX_BYTES
ZERO_HASH = b"\x00" * HASH_LEN
ZERO_SIG = b"\x00" * SIG_LEN
_U32 = struct.Struct(">I")
_sha = hashlib.sha256


class EncodingError(ValueError):
    """Bytes or JSON that are not a block (rule E1)."""


def sha256(data: bytes) -> bytes:
    return _sha(data).digest()


EMPTY_ROOT = sha256(b"")


def tx_root(txs: Sequence[bytes]) -> bytes:
    if not txs:
        return EMPTY_ROOT
    level = [_sha(b"\x00" + t).digest() for t in txs]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [_sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return _sha(b"\x02" + len(txs).to_bytes(8, "big") + level[0]).digest()


@dataclass(slots=True)
class OBlock:
    """A block as the oracle sees it; ``reported_hash`` is the hash a node claimed (E2)."""

    height: int
    parent_hash: bytes
    timestamp: int
    tx_root: bytes
    producer: int
    signature: bytes
    txs: tuple[bytes, ...] = ()
    reported_hash: bytes | None = None
    _hash: bytes = field(default=b"", repr=False, compare=False)

    def header_bytes(self) -> bytes:
        return HEADER.pack(
            self.height, self.parent_hash, self.timestamp, self.tx_root, self.producer
        )

    @property
    def hash(self) -> bytes:
        if not self._hash:
            self._hash = _sha(self.header_bytes()).digest()
        return self._hash

    def body_size(self) -> int:
        return sum(map(len, self.txs))

    def encode(self) -> bytes:
        parts = [self.header_bytes(), self.signature, _U32.pack(len(self.txs))]
        for t in self.txs:
            parts += [_U32.pack(len(t)), t]
        return b"".join(parts)

    def replace(self, **changes: Any) -> OBlock:
        """A copy with fields changed (the hash is recomputed): how invalid cases are made."""
        d = {k: getattr(self, k) for k in _FIELDS}
        d.update(changes)
        return OBlock(**d)

    @classmethod
    def decode(cls, data: bytes) -> OBlock:
        n = len(data)
        if n < HEADER_LEN + SIG_LEN + 4:
            raise EncodingError(f"block of {n} bytes is shorter than header+signature+count")
        height, parent, ts, root, producer = HEADER.unpack_from(data, 0)
        pos = HEADER_LEN
        sig = data[pos : pos + SIG_LEN]
        pos += SIG_LEN
        (count,) = _U32.unpack_from(data, pos)
        pos += 4
        if count > MAX_TXS:
            raise EncodingError(f"{count} transactions exceed {MAX_TXS}")
        txs = []
        total = 0
        for _ in range(count):
            if pos + 4 > n:
                raise EncodingError("truncated transaction length")
            (ln,) = _U32.unpack_from(data, pos)
            pos += 4
            if ln > MAX_TX_BYTES:
                raise EncodingError(f"transaction of {ln} bytes exceeds {MAX_TX_BYTES}")
            if pos + ln > n:
                raise EncodingError("truncated transaction")
            total += ln
            if total > MAX_DECODED_BODY:
                raise EncodingError(f"body exceeds {MAX_DECODED_BODY} bytes")
            txs.append(bytes(data[pos : pos + ln]))
            pos += ln
        if pos != n:
            raise EncodingError(f"{n - pos} trailing bytes")
        return cls(height, bytes(parent), ts, bytes(root), producer, bytes(sig), tuple(txs))

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OBlock:
        """The node RPC's block object (docs/NODE_API.md ``chain_getBlockByHeight``)."""
        try:
            b = cls(
                int(d["height"]),
                _hex(d["parent_hash"], HASH_LEN),
                int(d["timestamp"]),
                _hex(d["tx_root"], HASH_LEN),
                int(d["producer"]),
                _hex(d["signature"], SIG_LEN),
                tuple(_hex(t) for t in d.get("txs") or ()),
                _hex(d["hash"], HASH_LEN) if d.get("hash") else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise EncodingError(f"not a block object: {type(e).__name__} {e}") from None
        if not (0 <= b.height < 2**64 and 0 <= b.timestamp < 2**64 and 0 <= b.producer < 2**32):
            raise EncodingError("integer field out of range")
        return b

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "hash": "0x" + (self.reported_hash or self.hash).hex(),
            "parent_hash": "0x" + self.parent_hash.hex(),
            "timestamp": self.timestamp,
            "tx_root": "0x" + self.tx_root.hex(),
            "producer": self.producer,
            "signature": "0x" + self.signature.hex(),
            "txs": ["0x" + t.hex() for t in self.txs],
        }


_FIELDS = ("height", "parent_hash", "timestamp", "tx_root", "producer", "signature", "txs")


def _hex(v: object, n: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise ValueError("expected a hex string")
    b = bytes.fromhex(v[2:] if v.startswith("0x") else v)
    if n is not None and len(b) != n:
        raise ValueError(f"expected {n} bytes, got {len(b)}")
    return b


def hex_bytes(v: object, n: int | None = None) -> bytes:
    """Public form of the strict hex parser (checkers read hashes from histories with it)."""
    return _hex(v, n)
