"""Block header/body, their canonical encoding and hashes.

The block hash is SHA-256 of the encoded header only; the producer signs that hash. Keeping the
signature out of the hash lets anyone recompute the signed message from the header alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alys_node.chain.codec import DecodeError, Reader, Writer
from alys_node.chain.merkle import merkle_root, sha256

HASH_LEN = 32
SIG_LEN = 96
HEADER_LEN = 8 + 32 + 8 + 32 + 4
ZERO_HASH = b"\x00" * HASH_LEN
MAX_TXS = 10_000
MAX_TX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Header:
    height: int
    parent_hash: bytes
    timestamp: int  # milliseconds since the Unix epoch
    tx_root: bytes
    producer: int

    def encode(self) -> bytes:
        return (
            Writer()
            .u64(self.height)
            .fixed(self.parent_hash, HASH_LEN)
            .u64(self.timestamp)
            .fixed(self.tx_root, HASH_LEN)
            .u32(self.producer)
            .getvalue()
        )

    @classmethod
    def read(cls, r: Reader) -> Header:
        return cls(r.u64(), r.fixed(HASH_LEN), r.u64(), r.fixed(HASH_LEN), r.u32())

    @classmethod
    def decode(cls, data: bytes) -> Header:
        r = Reader(data)
        h = cls.read(r)
        r.end()
        return h

    def hash(self) -> bytes:
        return sha256(self.encode())


@dataclass(frozen=True, slots=True)
class Block:
    header: Header
    txs: tuple[bytes, ...]
    signature: bytes
    _hash: bytes = field(default=b"", compare=False, repr=False)

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def hash(self) -> bytes:
        if not self._hash:
            object.__setattr__(self, "_hash", self.header.hash())
        return self._hash

    def body_size(self) -> int:
        return sum(len(t) for t in self.txs)

    def encode(self) -> bytes:
        w = Writer().raw(self.header.encode()).fixed(self.signature, SIG_LEN).u32(len(self.txs))
        for t in self.txs:
            w.var(t)
        return w.getvalue()

    @classmethod
    def read(cls, r: Reader, max_body: int = MAX_TX_BYTES * 16) -> Block:
        header = Header.read(r)
        sig = r.fixed(SIG_LEN)
        n = r.count(MAX_TXS)
        txs = []
        total = 0
        for _ in range(n):
            t = r.var(MAX_TX_BYTES)
            total += len(t)
            if total > max_body:
                raise DecodeError(f"block body exceeds {max_body} bytes")
            txs.append(t)
        return cls(header, tuple(txs), sig)

    @classmethod
    def decode(cls, data: bytes) -> Block:
        r = Reader(data)
        b = cls.read(r)
        r.end()
        return b

    def to_json(self, received_at: float | None = None) -> dict:
        h = self.header
        return {
            "height": h.height,
            "hash": "0x" + self.hash.hex(),
            "parent_hash": "0x" + h.parent_hash.hex(),
            "timestamp": h.timestamp,
            "tx_root": "0x" + h.tx_root.hex(),
            "producer": h.producer,
            "signature": "0x" + self.signature.hex(),
            "txs": ["0x" + t.hex() for t in self.txs],
            "received_at": received_at,
        }


def make_header(
    height: int, parent_hash: bytes, timestamp: int, txs: tuple[bytes, ...], producer: int
) -> Header:
    return Header(height, parent_hash, timestamp, merkle_root(txs), producer)
