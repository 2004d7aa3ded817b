"""The execution-layer state machine behind the embedded Engine API endpoint.

It keeps a block tree keyed by recomputed block hash, builds payloads on forkchoiceUpdated with
attributes and validates newPayload the way execution clients do: known parent, recomputed
hash, strictly increasing timestamp, fork-correct fields. It does not execute transactions;
state roots are derived deterministically so that every block is reproducible from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import codec
from .blockhash import compute_block_hash, header_fields
from .errors import (
    INVALID_FORKCHOICE_STATE,
    INVALID_PARAMS,
    INVALID_PAYLOAD_ATTRIBUTES,
    UNKNOWN_PAYLOAD,
    UNSUPPORTED_FORK,
    EngineError,
)
from .rlp import EMPTY_TRIE_ROOT, keccak256

ZERO32 = b"\x00" * 32
GAS_LIMIT = 30_000_000
BASE_FEE = 7


@dataclass(frozen=True)
class ForkSchedule:
    """Activation timestamps (execution forks: shanghai = capella, cancun = deneb)."""

    capella_time: int = 0
    deneb_time: int = 0
    genesis_time: int = 0

    def fork_at(self, timestamp: int) -> str:
        if timestamp >= self.deneb_time:
            return "deneb"
        if timestamp >= self.capella_time:
            return "capella"
        return "bellatrix"


@dataclass
class Block:
    payload: Any  # consensus ExecutionPayload container
    fork: str
    parent_beacon_block_root: bytes | None
    status: str = "VALID"  # VALID | INVALID | ACCEPTED | SYNCING (parent unknown)

    @property
    def hash(self) -> bytes:
        return bytes(self.payload.block_hash)

    @property
    def parent(self) -> bytes:
        return bytes(self.payload.parent_hash)

    @property
    def number(self) -> int:
        return int(self.payload.block_number)

    @property
    def timestamp(self) -> int:
        return int(self.payload.timestamp)


def _status(status: str, lvh: bytes | None, error: str | None = None) -> dict[str, Any]:
    return {"status": status, "latest_valid_hash": lvh, "validation_error": error}


@dataclass
class ExecutionState:
    schedule: ForkSchedule = field(default_factory=ForkSchedule)
    preset: str = "mainnet"
    blocks: dict[bytes, Block] = field(default_factory=dict)
    built: dict[bytes, Block] = field(default_factory=dict)
    head: bytes = ZERO32
    safe: bytes = ZERO32
    finalized: bytes = ZERO32
    reorgs: list[dict[str, Any]] = field(default_factory=list)
    max_built: int = 64

    def __post_init__(self) -> None:
        genesis = self._assemble(
            fork=self.schedule.fork_at(self.schedule.genesis_time),
            parent=None,
            timestamp=self.schedule.genesis_time,
            prev_randao=ZERO32,
            fee_recipient=b"\x00" * 20,
            withdrawals=[],
            pbbr=ZERO32,
        )
        self.blocks[genesis.hash] = genesis
        self.head = self.genesis_hash = genesis.hash

    # -- building ------------------------------------------------------------------------------
    def _assemble(self, fork, parent, timestamp, prev_randao, fee_recipient, withdrawals, pbbr):
        number = 0 if parent is None else parent.number + 1
        parent_hash = ZERO32 if parent is None else parent.hash
        parent_state = ZERO32 if parent is None else bytes(parent.payload.state_root)
        tx = b"\x02" + keccak256(parent_hash + number.to_bytes(8, "big"))[:24]
        obj: dict[str, Any] = {
            "parent_hash": parent_hash,
            "fee_recipient": fee_recipient,
            "state_root": keccak256(parent_state + number.to_bytes(8, "big")),
            "receipts_root": EMPTY_TRIE_ROOT,
            "logs_bloom": b"\x00" * 256,
            "prev_randao": prev_randao,
            "block_number": number,
            "gas_limit": GAS_LIMIT,
            "gas_used": 21_000,
            "timestamp": timestamp,
            "extra_data": b"alys-embedded-el",
            "base_fee_per_gas": BASE_FEE,
            "block_hash": ZERO32,
            "transactions": [tx] if number else [],
        }
        if fork != "bellatrix":
            obj["withdrawals"] = withdrawals
        if fork == "deneb":
            obj["blob_gas_used"] = 0
            obj["excess_blob_gas"] = 0
        payload = codec.payload_to_ssz(fork, obj, self.preset)
        pbbr = pbbr if fork == "deneb" else None
        payload.block_hash = compute_block_hash(payload, pbbr)
        return Block(payload, fork, pbbr)

    # -- forkchoice ---------------------------------------------------------------------------
    def is_ancestor(self, ancestor: bytes, block: bytes) -> bool:
        cur = self.blocks.get(block)
        while cur is not None:
            if cur.hash == ancestor:
                return True
            cur = self.blocks.get(cur.parent)
        return False

    def forkchoice_updated(self, version: int, fcs: dict, attrs: dict | None) -> dict[str, Any]:
        head_hash = fcs["head_block_hash"]
        head = self.blocks.get(head_hash)
        if head is None or head.status in ("SYNCING", "ACCEPTED"):
            return {"payload_status": _status("SYNCING", None), "payload_id": None}
        if head.status == "INVALID":
            lvh = self._latest_valid_ancestor(head_hash)
            return {
                "payload_status": _status("INVALID", lvh, "head is invalid"),
                "payload_id": None,
            }
        for key in ("safe_block_hash", "finalized_block_hash"):
            h = fcs[key]
            if h != ZERO32 and not self.is_ancestor(h, head_hash):
                raise EngineError(INVALID_FORKCHOICE_STATE, f"{key} is not an ancestor of head")
        if head_hash != self.head and not self.is_ancestor(self.head, head_hash):
            old = self.blocks[self.head]
            common = self._common_ancestor(self.head, head_hash)
            self.reorgs.append(
                {"from": old.hash, "to": head_hash, "depth": old.number - common.number}
            )
        self.head, self.safe, self.finalized = (
            head_hash,
            fcs["safe_block_hash"],
            fcs["finalized_block_hash"],
        )
        payload_id = None
        if attrs is not None:
            payload_id = self._start_build(version, head, attrs)
        return {"payload_status": _status("VALID", head_hash), "payload_id": payload_id}

    def _common_ancestor(self, a: bytes, b: bytes) -> Block:
        seen = set()
        cur = self.blocks.get(a)
        while cur is not None:
            seen.add(cur.hash)
            cur = self.blocks.get(cur.parent)
        cur = self.blocks[b]
        while cur.hash not in seen:
            cur = self.blocks[cur.parent]
        return cur

    def _latest_valid_ancestor(self, h: bytes) -> bytes | None:
        cur = self.blocks.get(h)
        while cur is not None and cur.status != "VALID":
            cur = self.blocks.get(cur.parent)
        return cur.hash if cur else None

    def _start_build(self, version: int, head: Block, attrs: dict) -> bytes:
        ts = attrs["timestamp"]
        fork = self.schedule.fork_at(ts)
        has_w = "withdrawals" in attrs
        has_root = "parent_beacon_block_root" in attrs
        if version == 1 and fork != "bellatrix":
            raise EngineError(UNSUPPORTED_FORK, f"forkchoiceUpdatedV1 attributes at {fork} time")
        if version == 2:
            if fork == "deneb":
                raise EngineError(UNSUPPORTED_FORK, "forkchoiceUpdatedV2 attributes at deneb time")
            if has_w != (fork == "capella"):
                raise EngineError(INVALID_PARAMS, f"withdrawals presence wrong for {fork}")
        if version >= 3 and fork != "deneb":
            raise EngineError(
                UNSUPPORTED_FORK, f"forkchoiceUpdatedV{version} attributes at {fork} time"
            )
        if version >= 3 and not has_root:
            raise EngineError(INVALID_PARAMS, "parentBeaconBlockRoot required")
        if ts <= head.timestamp:
            raise EngineError(INVALID_PAYLOAD_ATTRIBUTES, "timestamp not after head timestamp")
        block = self._assemble(
            fork,
            head,
            ts,
            attrs["prev_randao"],
            attrs["suggested_fee_recipient"],
            attrs.get("withdrawals", []),
            attrs.get("parent_beacon_block_root", ZERO32),
        )
        pid = keccak256(b"payload-id" + block.hash)[:8]
        if len(self.built) >= self.max_built:  # bounded: oldest build is forgotten
            self.built.pop(next(iter(self.built)))
        self.built[pid] = block
        return pid

    # -- getPayload ----------------------------------------------------------------------------
    def get_payload(self, version: int, payload_id: bytes) -> dict[str, Any]:
        block = self.built.get(payload_id)
        if block is None:
            raise EngineError(UNKNOWN_PAYLOAD, "0x" + payload_id.hex())
        allowed = {1: ("bellatrix",), 2: ("bellatrix", "capella"), 3: ("deneb",)}[version]
        if block.fork not in allowed:
            raise EngineError(UNSUPPORTED_FORK, f"getPayloadV{version} for a {block.fork} payload")
        return {"payload": codec.payload_from_ssz(block.payload), "fork": block.fork}

    # -- newPayload ----------------------------------------------------------------------------
    def payload_fork_check(self, version: int, payload: dict) -> str:
        """Fork of the payload's timestamp, refusing a version/fields mismatch per spec."""
        fork = self.schedule.fork_at(payload["timestamp"])
        has_w = "withdrawals" in payload
        if version == 1 and fork != "bellatrix":
            raise EngineError(UNSUPPORTED_FORK, f"newPayloadV1 at {fork} time")
        if version == 2:
            if fork == "deneb":
                raise EngineError(UNSUPPORTED_FORK, "newPayloadV2 at deneb time")
            if has_w != (fork == "capella"):
                raise EngineError(INVALID_PARAMS, f"withdrawals presence wrong for {fork}")
        if version == 3 and fork != "deneb":
            raise EngineError(UNSUPPORTED_FORK, f"newPayloadV3 at {fork} time")
        return fork

    def check_block_hash(self, block: Block) -> bool:
        """Overridable so that broken targets can skip it; real clients never do."""
        return compute_block_hash(block.payload, block.parent_beacon_block_root) == block.hash

    def new_payload(
        self,
        version: int,
        payload: dict,
        versioned_hashes: list[bytes] | None = None,
        pbbr: bytes | None = None,
    ) -> dict[str, Any]:
        fork = self.payload_fork_check(version, payload)
        try:
            container = codec.payload_to_ssz(fork, payload, self.preset)
        except ValueError as exc:
            raise EngineError(INVALID_PARAMS, str(exc)) from None
        block = Block(container, fork, pbbr if fork == "deneb" else None)
        known = self.blocks.get(block.hash)
        if known is not None and known.status == "VALID":
            return _status("VALID", block.hash)
        if not self.check_block_hash(block):
            # paris.md: V1 answers INVALID_BLOCK_HASH; shanghai.md: V2 and later answer INVALID
            status = "INVALID_BLOCK_HASH" if version == 1 else "INVALID"
            return _status(status, None, "blockHash does not match the payload")
        if versioned_hashes:  # the embedded EL never includes blob transactions
            return _status("INVALID", None, "versioned hashes do not match blob transactions")
        parent = self.blocks.get(block.parent)
        if parent is None:
            block.status = "SYNCING"
            self.blocks[block.hash] = block
            return _status("SYNCING", None)
        if parent.status == "INVALID":
            block.status = "INVALID"
            self.blocks[block.hash] = block
            lvh = self._latest_valid_ancestor(parent.hash)
            return _status("INVALID", lvh, "parent is invalid")
        if parent.status != "VALID":
            block.status = "ACCEPTED"
            self.blocks[block.hash] = block
            return _status("ACCEPTED", None)
        error = None
        if block.timestamp <= parent.timestamp:
            error = "timestamp not after parent timestamp"
        elif block.number != parent.number + 1:
            error = "block number is not parent + 1"
        if error:
            block.status = "INVALID"
            self.blocks[block.hash] = block
            return _status("INVALID", parent.hash, error)
        self.blocks[block.hash] = block
        return _status("VALID", block.hash)

    def body(self, block: Block | None) -> dict[str, Any] | None:
        """ExecutionPayloadBodyV1 of a known valid block (null for unknown, as the spec says)."""
        if block is None or block.status != "VALID":
            return None
        obj = codec.payload_from_ssz(block.payload)
        return {"transactions": obj["transactions"], "withdrawals": obj.get("withdrawals")}

    def block_object(self, block: Block | None) -> dict[str, Any] | None:
        """The eth_getBlockBy* view of a block (header fields, transaction hashes), as execution
        clients serve it on the Engine API port (common.md lists the eth_ methods there)."""
        if block is None:
            return None
        p = block.payload
        header = header_fields(p, block.parent_beacon_block_root)
        names = [
            "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot",
            "receiptsRoot", "logsBloom", "difficulty", "number", "gasLimit", "gasUsed",
            "timestamp", "extraData", "mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot",
            "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot",
        ]  # fmt: skip
        if "withdrawals" not in type(p).fields():
            names.remove("withdrawalsRoot")
        out: dict[str, Any] = {"hash": "0x" + block.hash.hex()}
        for name, value in zip(names, header, strict=False):
            out[name] = hex(value) if isinstance(value, int) else "0x" + bytes(value).hex()
        out["transactions"] = ["0x" + keccak256(bytes(tx)).hex() for tx in p.transactions]
        return out

    def block_by_number(self, number: int | None) -> Block | None:
        """Canonical block ``number`` (None = head)."""
        chain = self.canonical_chain()
        if number is None:
            return chain[-1]
        return chain[number] if 0 <= number < len(chain) else None

    def canonical_chain(self) -> list[Block]:
        out = []
        cur = self.blocks.get(self.head)
        while cur is not None:
            out.append(cur)
            cur = self.blocks.get(cur.parent)
        return out[::-1]
