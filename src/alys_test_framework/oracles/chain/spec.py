"""The chain spec as the oracle reads it: from the spec JSON file, with its own genesis.

Rules (docs/CHAIN_RULES.md, C1 and the encodings table): the genesis block is height 0,
parent 0x00…00, timestamp genesis_timestamp, producer 0, a single transaction holding the
canonical spec encoding ``u16 1 ‖ text chain_id ‖ u32 n ‖ pk[48]*n ‖ u64 slot_ms ‖
u64 checkpoint_interval ‖ u64 genesis_timestamp ‖ u64 max_block_bytes``, and 96 zero bytes as
signature. The defaults of absent fields are the doc's.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .encoding import ZERO_HASH, ZERO_SIG, OBlock, hex_bytes, tx_root

SPEC_VERSION = 1


class OracleSpecError(ValueError):
    """A spec file the oracle cannot judge with (missing field, bad key length)."""


@dataclass(frozen=True)
class OracleSpec:
    chain_id: str
    authorities: tuple[bytes, ...]
    slot_ms: int = 2000
    checkpoint_interval: int = 100
    genesis_timestamp: int = 1_700_000_000_000
    max_block_bytes: int = 256 * 1024

    def canonical(self) -> bytes:
        cid = self.chain_id.encode()
        out = [
            struct.pack(">HI", SPEC_VERSION, len(cid)),
            cid,
            struct.pack(">I", len(self.authorities)),
        ]
        out += list(self.authorities)
        out.append(
            struct.pack(
                ">QQQQ",
                self.slot_ms,
                self.checkpoint_interval,
                self.genesis_timestamp,
                self.max_block_bytes,
            )
        )
        return b"".join(out)

    def genesis(self) -> OBlock:
        txs = (self.canonical(),)
        return OBlock(0, ZERO_HASH, self.genesis_timestamp, tx_root(txs), 0, ZERO_SIG, txs)

    def slot_of(self, timestamp_ms: int) -> int:
        return (timestamp_ms - self.genesis_timestamp) // self.slot_ms

    def owner(self, slot: int) -> int:
        return slot % len(self.authorities)

    @classmethod
    def from_json(cls, d: Any) -> OracleSpec:
        if not isinstance(d, dict):
            raise OracleSpecError("chain spec must be a JSON object")
        try:
            auth = tuple(hex_bytes(a, 48) for a in d["authorities"])
            spec = cls(
                str(d["chain_id"]),
                auth,
                int(d.get("slot_ms", 2000)),
                int(d.get("checkpoint_interval", 100)),
                int(d.get("genesis_timestamp", 1_700_000_000_000)),
                int(d.get("max_block_bytes", 256 * 1024)),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise OracleSpecError(f"chain spec unusable: {type(e).__name__} {e}") from None
        if not spec.authorities or spec.slot_ms <= 0 or spec.checkpoint_interval <= 0:
            raise OracleSpecError("chain spec needs authorities, slot_ms > 0, interval > 0")
        return spec

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OracleSpec:
        try:
            return cls.from_json(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise OracleSpecError(f"cannot read chain spec {path}: {e}") from None
