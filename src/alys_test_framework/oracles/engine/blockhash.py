"""An execution block's hash, recomputed from an Engine API payload or an eth_ block object.

Rules (paris.md "payload validation", EIP-3675, EIP-4895, EIP-4788, EIP-4844):
- blockHash = keccak256(rlp(header)); the header is the payload's fields plus the constants the
  merge fixed: ommersHash = keccak256(rlp([])), difficulty 0, nonce eight zero bytes;
- transactionsRoot is the ordered trie root of the raw transactions;
- from shanghai on, withdrawalsRoot (ordered trie of rlp([index, validatorIndex, address,
  amount])) follows baseFeePerGas; from cancun on, blobGasUsed, excessBlobGas and
  parentBeaconBlockRoot follow it, parentBeaconBlockRoot coming from the consensus side.
Built on rlp and eth-hash; a harness never recomputes a hash with the target's own code.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_hash.auto import keccak

from .trie import ordered_trie_root

EMPTY_OMMERS_HASH = keccak(rlp.encode([]))
_ZERO_NONCE = b"\x00" * 8


def _data(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _qty(value: str) -> int:
    return int(value, 16)


def withdrawal_rlp(w: dict[str, str]) -> bytes:
    return rlp.encode(
        [_qty(w["index"]), _qty(w["validatorIndex"]), _data(w["address"]), _qty(w["amount"])]
    )


def payload_header(payload: dict[str, Any], parent_beacon_block_root: str | None) -> list[Any]:
    """The RLP header list of an engine JSON ExecutionPayloadV1..V3."""
    header: list[Any] = [
        _data(payload["parentHash"]),
        EMPTY_OMMERS_HASH,
        _data(payload["feeRecipient"]),
        _data(payload["stateRoot"]),
        ordered_trie_root([_data(tx) for tx in payload["transactions"]]),
        _data(payload["receiptsRoot"]),
        _data(payload["logsBloom"]),
        0,
        _qty(payload["blockNumber"]),
        _qty(payload["gasLimit"]),
        _qty(payload["gasUsed"]),
        _qty(payload["timestamp"]),
        _data(payload["extraData"]),
        _data(payload["prevRandao"]),
        _ZERO_NONCE,
        _qty(payload["baseFeePerGas"]),
    ]
    if "withdrawals" in payload:
        header.append(ordered_trie_root([withdrawal_rlp(w) for w in payload["withdrawals"]]))
    if "blobGasUsed" in payload:
        if parent_beacon_block_root is None:
            raise ValueError("a cancun block hash needs the parentBeaconBlockRoot")
        header += [_qty(payload["blobGasUsed"]), _qty(payload["excessBlobGas"])]
        header.append(_data(parent_beacon_block_root))
    return header


def payload_block_hash(payload: dict[str, Any], parent_beacon_block_root: str | None = None) -> str:
    """0x-hex blockHash the payload must carry."""
    return "0x" + keccak(rlp.encode(payload_header(payload, parent_beacon_block_root))).hex()


# eth_getBlockByNumber field order of the header (yellow paper + EIP-1559/4895/4844/4788)
_BLOCK_FIELDS: list[tuple[str, str]] = [
    ("parentHash", "data"),
    ("sha3Uncles", "data"),
    ("miner", "data"),
    ("stateRoot", "data"),
    ("transactionsRoot", "data"),
    ("receiptsRoot", "data"),
    ("logsBloom", "data"),
    ("difficulty", "qty"),
    ("number", "qty"),
    ("gasLimit", "qty"),
    ("gasUsed", "qty"),
    ("timestamp", "qty"),
    ("extraData", "data"),
    ("mixHash", "data"),
    ("nonce", "data"),
]
_OPTIONAL_FIELDS: list[tuple[str, str]] = [
    ("baseFeePerGas", "qty"),
    ("withdrawalsRoot", "data"),
    ("blobGasUsed", "qty"),
    ("excessBlobGas", "qty"),
    ("parentBeaconBlockRoot", "data"),
]


def block_object_hash(block: dict[str, Any]) -> str:
    """0x-hex hash of the header an eth_getBlockBy* object describes (its trailing fields stop
    at the first one the block does not carry, as the header's RLP list does)."""
    items: list[Any] = []
    for key, kind in _BLOCK_FIELDS:
        items.append(_data(block[key]) if kind == "data" else _qty(block[key]))
    for key, kind in _OPTIONAL_FIELDS:
        if block.get(key) is None:
            break
        items.append(_data(block[key]) if kind == "data" else _qty(block[key]))
    return "0x" + keccak(rlp.encode(items)).hex()
