"""Execution block hash recomputed from an execution payload, as execution clients do it.

keccak256(rlp(header)) where the header is rebuilt from the payload fields plus the constants
the merge fixed (empty ommers, zero difficulty and nonce) and fork-dependent trailing fields.
"""

from __future__ import annotations

from typing import Any

from .rlp import EMPTY_OMMERS_HASH, encode, keccak256, ordered_trie_root


def withdrawal_rlp(w: Any) -> bytes:
    return encode([int(w.index), int(w.validator_index), bytes(w.address), int(w.amount)])


def header_fields(payload: Any, parent_beacon_block_root: bytes | None = None) -> list:
    """The RLP header list for a bellatrix/capella/deneb consensus ExecutionPayload."""
    fields = type(payload).fields()
    header = [
        bytes(payload.parent_hash),
        EMPTY_OMMERS_HASH,
        bytes(payload.fee_recipient),
        bytes(payload.state_root),
        ordered_trie_root([bytes(tx) for tx in payload.transactions]),
        bytes(payload.receipts_root),
        bytes(payload.logs_bloom),
        0,
        int(payload.block_number),
        int(payload.gas_limit),
        int(payload.gas_used),
        int(payload.timestamp),
        bytes(payload.extra_data),
        bytes(payload.prev_randao),
        b"\x00" * 8,
        int(payload.base_fee_per_gas),
    ]
    if "withdrawals" in fields:
        header.append(ordered_trie_root([withdrawal_rlp(w) for w in payload.withdrawals]))
    if "blob_gas_used" in fields:
        if parent_beacon_block_root is None:
            raise ValueError("deneb block hash needs parent_beacon_block_root")
        header += [int(payload.blob_gas_used), int(payload.excess_blob_gas)]
        header.append(bytes(parent_beacon_block_root))
    return header


def compute_block_hash(payload: Any, parent_beacon_block_root: bytes | None = None) -> bytes:
    return keccak256(encode(header_fields(payload, parent_beacon_block_root)))
