"""Chain spec (the genesis contract every node of a network must share) and authority key files.

The genesis block's single transaction is the canonical spec encoding, so two specs that differ in
any field have different genesis hashes and their nodes refuse each other at handshake.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from alys_node.chain.block import SIG_LEN, ZERO_HASH, Block, make_header
from alys_node.chain.codec import Writer

SPEC_VERSION = 1
DEV_CHAIN_ID = "alys-dev"
DEV_GENESIS_TS = 1_700_000_000_000


class SpecError(ValueError):
    """An unreadable or inconsistent chain spec / key file (the CLI turns it into exit 2)."""


@dataclass(frozen=True)
class ChainSpec:
    chain_id: str
    authorities: tuple[bytes, ...]  # 48-byte BLS public keys, index = producer index
    slot_ms: int = 2000
    checkpoint_interval: int = 100
    genesis_timestamp: int = DEV_GENESIS_TS
    max_block_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        if not self.chain_id or len(self.chain_id) > 64:
            raise SpecError("chain_id must be 1..64 characters")
        if not self.authorities:
            raise SpecError("chain spec needs at least one authority")
        if any(len(a) != 48 for a in self.authorities):
            raise SpecError("authority public keys must be 48 bytes")
        if self.slot_ms <= 0 or self.checkpoint_interval <= 0 or self.max_block_bytes <= 0:
            raise SpecError("slot_ms, checkpoint_interval and max_block_bytes must be positive")

    def canonical(self) -> bytes:
        w = Writer().u16(SPEC_VERSION).text(self.chain_id).u32(len(self.authorities))
        for a in self.authorities:
            w.fixed(a, 48)
        w.u64(self.slot_ms).u64(self.checkpoint_interval).u64(self.genesis_timestamp)
        return w.u64(self.max_block_bytes).getvalue()

    def genesis(self) -> Block:
        txs = (self.canonical(),)
        header = make_header(0, ZERO_HASH, self.genesis_timestamp, txs, 0)
        return Block(header, txs, b"\x00" * SIG_LEN)

    def slot_of(self, timestamp_ms: int) -> int:
        return (timestamp_ms - self.genesis_timestamp) // self.slot_ms

    def slot_start(self, slot: int) -> int:
        return self.genesis_timestamp + slot * self.slot_ms

    def producer_of_slot(self, slot: int) -> int:
        return slot % len(self.authorities)

    def to_json(self) -> dict:
        return {
            "version": SPEC_VERSION,
            "chain_id": self.chain_id,
            "authorities": ["0x" + a.hex() for a in self.authorities],
            "slot_ms": self.slot_ms,
            "checkpoint_interval": self.checkpoint_interval,
            "genesis_timestamp": self.genesis_timestamp,
            "max_block_bytes": self.max_block_bytes,
        }

    @classmethod
    def from_json(cls, d: object) -> ChainSpec:
        if not isinstance(d, dict):
            raise SpecError("chain spec must be a JSON object")
        try:
            return cls(
                chain_id=str(d["chain_id"]),
                authorities=tuple(_hex(a, 48, "authority") for a in d["authorities"]),
                slot_ms=int(d.get("slot_ms", 2000)),
                checkpoint_interval=int(d.get("checkpoint_interval", 100)),
                genesis_timestamp=int(d.get("genesis_timestamp", DEV_GENESIS_TS)),
                max_block_bytes=int(d.get("max_block_bytes", 256 * 1024)),
            )
        except KeyError as e:
            raise SpecError(f"chain spec is missing field {e.args[0]!r}") from None
        except (TypeError, ValueError) as e:
            if isinstance(e, SpecError):
                raise
            raise SpecError(f"chain spec has a bad value: {e}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> ChainSpec:
        try:
            raw = Path(path).read_text()
        except OSError as e:
            raise SpecError(f"cannot read chain spec {path}: {e.strerror or e}") from None
        try:
            d = json.loads(raw)
        except json.JSONDecodeError as e:
            raise SpecError(
                f"chain spec {path} is not valid JSON: {e.msg} at line {e.lineno}"
            ) from None
        return cls.from_json(d)

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")


def _hex(v: object, n: int, what: str) -> bytes:
    if not isinstance(v, str):
        raise SpecError(f"{what} must be a hex string")
    try:
        b = bytes.fromhex(v[2:] if v.startswith("0x") else v)
    except ValueError:
        raise SpecError(f"{what} is not valid hex") from None
    if len(b) != n:
        raise SpecError(f"{what} must be {n} bytes, got {len(b)}")
    return b


@dataclass(frozen=True)
class AuthorityKey:
    index: int
    secret_key: bytes
    public_key: bytes

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "secret_key": "0x" + self.secret_key.hex(),
            "public_key": "0x" + self.public_key.hex(),
        }

    @classmethod
    def load(cls, path: str | os.PathLike) -> AuthorityKey:
        try:
            d = json.loads(Path(path).read_text())
            return cls(
                int(d["index"]),
                _hex(d["secret_key"], 32, "secret_key"),
                _hex(d["public_key"], 48, "public_key"),
            )
        except OSError as e:
            raise SpecError(f"cannot read authority key {path}: {e.strerror or e}") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            if isinstance(e, SpecError):
                raise
            raise SpecError(f"authority key file {path} is malformed: {e}") from None


def derive_key(seed: bytes, index: int) -> AuthorityKey:
    from alys_node.crypto import bls

    sk = bls.key_gen(seed + index.to_bytes(4, "big") + b"\x00" * 28)
    return AuthorityKey(index, sk, bls.sk_to_pk(sk))


def dev_spec_and_key() -> tuple[ChainSpec, AuthorityKey]:
    """The built-in single-authority dev chain used when no --chain-spec is given: deterministic,
    so any two nodes started without a spec agree on genesis and can sync from each other."""
    key = derive_key(b"alys-dev-authority", 0)
    return ChainSpec(DEV_CHAIN_ID, (key.public_key,), slot_ms=1000, checkpoint_interval=100), key


def init_spec(
    out: str | os.PathLike,
    authorities: int,
    chain_id: str = "alys-test",
    slot_ms: int = 2000,
    checkpoint_interval: int = 100,
    seed: bytes | None = None,
    genesis_timestamp: int | None = None,
) -> ChainSpec:
    """Write DIR/chain-spec.json plus DIR/authority-<i>.key. Keys come from os.urandom unless a
    seed is given (tests pass one so runs replay)."""
    if authorities < 1 or authorities > 1000:
        raise SpecError("--authorities must be between 1 and 1000")
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    base = seed if seed is not None else os.urandom(32)
    keys = [derive_key(base, i) for i in range(authorities)]
    spec = ChainSpec(
        chain_id,
        tuple(k.public_key for k in keys),
        slot_ms=slot_ms,
        checkpoint_interval=checkpoint_interval,
        genesis_timestamp=genesis_timestamp if genesis_timestamp is not None else DEV_GENESIS_TS,
    )
    spec.save(outdir / "chain-spec.json")
    for k in keys:
        p = outdir / f"authority-{k.index}.key"
        p.write_text(json.dumps(k.to_json(), indent=2) + "\n")
        p.chmod(0o600)
    return spec
