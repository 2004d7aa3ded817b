"""Engine API JSON codecs: strict decode to Python values, canonical encode back.

Each object shape is a list of (jsonKey, py_key, kind). Decoding is strict (non-canonical
quantities such as ``0x01`` and wrong-length DATA are errors, as execution clients treat them),
so ``encode(decode(x)) == x`` holds exactly for canonical input: that identity is how recorded
real-client exchanges are checked. Payloads convert to the SSZ containers of alys_node.consensus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..consensus import from_obj_typed, get_type, to_obj
from ..consensus.presets import Preset

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


class CodecError(ValueError):
    """Malformed Engine API value; maps to JSON-RPC -32602 and names the field path."""


_QTY = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
_DATA = re.compile(r"^0x([0-9a-fA-F]{2})*$")
_SIZES = {"bytes8": 8, "bytes16": 16, "bytes32": 32, "hash32": 32, "address": 20, "bytes48": 48}
_SIZES["bytes256"] = 256
_BITS = {"u64": 64, "u256": 256}

Shape = list[tuple[str, str, Any]]

_PAYLOAD_V1: Shape = [
    ("parentHash", "parent_hash", "hash32"),
    ("feeRecipient", "fee_recipient", "address"),
    ("stateRoot", "state_root", "hash32"),
    ("receiptsRoot", "receipts_root", "hash32"),
    ("logsBloom", "logs_bloom", "bytes256"),
    ("prevRandao", "prev_randao", "bytes32"),
    ("blockNumber", "block_number", "u64"),
    ("gasLimit", "gas_limit", "u64"),
    ("gasUsed", "gas_used", "u64"),
    ("timestamp", "timestamp", "u64"),
    ("extraData", "extra_data", "bytesMax32"),
    ("baseFeePerGas", "base_fee_per_gas", "u256"),
    ("blockHash", "block_hash", "hash32"),
    ("transactions", "transactions", ("list", "bytes")),
]
_WITHDRAWAL: Shape = [
    ("index", "index", "u64"),
    ("validatorIndex", "validator_index", "u64"),
    ("address", "address", "address"),
    ("amount", "amount", "u64"),
]
_ATTR_V1: Shape = [
    ("timestamp", "timestamp", "u64"),
    ("prevRandao", "prev_randao", "bytes32"),
    ("suggestedFeeRecipient", "suggested_fee_recipient", "address"),
]
_ATTR_V2 = _ATTR_V1 + [("withdrawals", "withdrawals", ("list", "WithdrawalV1"))]
_ATTR_V3 = _ATTR_V2 + [("parentBeaconBlockRoot", "parent_beacon_block_root", "hash32")]
_PAYLOAD_V2 = _PAYLOAD_V1 + [("withdrawals", "withdrawals", ("list", "WithdrawalV1"))]


def _status(*values: str) -> Shape:
    return [
        ("status", "status", ("enum", *values)),
        ("latestValidHash", "latest_valid_hash", ("nullable", "hash32")),
        ("validationError", "validation_error", ("optional", ("nullable", "string"))),
    ]


SHAPES: dict[str, Shape] = {
    "ExecutionPayloadV1": _PAYLOAD_V1,
    "ExecutionPayloadV2": _PAYLOAD_V2,
    "ExecutionPayloadV3": _PAYLOAD_V2
    + [("blobGasUsed", "blob_gas_used", "u64"), ("excessBlobGas", "excess_blob_gas", "u64")],
    "WithdrawalV1": _WITHDRAWAL,
    "ForkchoiceStateV1": [
        ("headBlockHash", "head_block_hash", "hash32"),
        ("safeBlockHash", "safe_block_hash", "hash32"),
        ("finalizedBlockHash", "finalized_block_hash", "hash32"),
    ],
    "PayloadAttributesV1": _ATTR_V1,
    "PayloadAttributesV2": _ATTR_V2,
    "PayloadAttributesV3": _ATTR_V3,
    "PayloadAttributesV4": _ATTR_V3
    + [("slotNumber", "slot_number", "u64"), ("targetGasLimit", "target_gas_limit", "u64")],
    # paris.md: newPayloadV1 may answer INVALID_BLOCK_HASH; shanghai.md drops it from V2 on
    "PayloadStatusV1": _status("VALID", "INVALID", "SYNCING", "ACCEPTED", "INVALID_BLOCK_HASH"),
    "PayloadStatusNoInvalidBlockHash": _status("VALID", "INVALID", "SYNCING", "ACCEPTED"),
    "ForkchoiceUpdatedResponseV1": [
        ("payloadStatus", "payload_status", "PayloadStatusV1"),
        ("payloadId", "payload_id", ("nullable", "bytes8")),
    ],
    "BlobsBundleV1": [
        ("commitments", "commitments", ("list", "bytes48")),
        ("proofs", "proofs", ("list", "bytes48")),
        ("blobs", "blobs", ("list", "bytes")),
    ],
    "ExecutionPayloadBodyV1": [
        ("transactions", "transactions", ("list", "bytes")),
        ("withdrawals", "withdrawals", ("nullable", ("list", "WithdrawalV1"))),
    ],
    "GetPayloadResponseV2": [
        (
            "executionPayload",
            "execution_payload",
            ("anyof", "ExecutionPayloadV2", "ExecutionPayloadV1"),
        ),
        ("blockValue", "block_value", "u256"),
    ],
    "GetPayloadResponseV3": [
        ("executionPayload", "execution_payload", "ExecutionPayloadV3"),
        ("blockValue", "block_value", "u256"),
        ("blobsBundle", "blobs_bundle", "BlobsBundleV1"),
        ("shouldOverrideBuilder", "should_override_builder", "bool"),
    ],
}


def decode(kind: Any, value: Any, path: str = "$") -> Any:
    """JSON value -> Python value (ints, bytes, dicts with snake_case keys, lists)."""
    if isinstance(kind, tuple):
        tag = kind[0]
        if tag == "list":
            if not isinstance(value, list):
                raise CodecError(f"{path}: expected an array")
            return [decode(kind[1], v, f"{path}[{i}]") for i, v in enumerate(value)]
        if tag == "nullable":
            return None if value is None else decode(kind[1], value, path)
        if tag == "optional":
            return decode(kind[1], value, path)
        if tag == "enum":
            if value not in kind[1:]:
                raise CodecError(f"{path}: {value!r} is not one of {', '.join(kind[1:])}")
            return value
        if tag == "anyof":
            errors = []
            for alt in kind[1:]:
                try:
                    return decode(alt, value, path)
                except CodecError as exc:
                    errors.append(str(exc))
            raise CodecError(" / ".join(errors))
        raise CodecError(f"{path}: unknown kind {kind!r}")
    if kind in SHAPES:
        return decode_object(kind, value, path)
    if kind in _BITS:
        if not isinstance(value, str) or not _QTY.match(value):
            raise CodecError(f"{path}: {value!r:.40} is not a canonical QUANTITY")
        n = int(value, 16)
        if n.bit_length() > _BITS[kind]:
            raise CodecError(f"{path}: {value} exceeds {_BITS[kind]} bits")
        return n
    if kind == "string":
        if not isinstance(value, str):
            raise CodecError(f"{path}: expected a string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise CodecError(f"{path}: expected a boolean")
        return value
    if not isinstance(value, str) or not _DATA.match(value):
        raise CodecError(f"{path}: {value!r:.40} is not 0x-prefixed even-length hex DATA")
    raw = bytes.fromhex(value[2:])
    if kind in _SIZES and len(raw) != _SIZES[kind]:
        raise CodecError(f"{path}: expected {_SIZES[kind]} bytes, got {len(raw)}")
    if kind == "bytesMax32" and len(raw) > 32:
        raise CodecError(f"{path}: at most 32 bytes, got {len(raw)}")
    return raw


def decode_object(shape: str, value: Any, path: str = "$") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"{path}: expected an object ({shape})")
    fields = SHAPES[shape]
    known = {j for j, _, _ in fields}
    extra = sorted(set(value) - known)
    if extra:
        raise CodecError(f"{path}: unknown field(s) {', '.join(extra)} for {shape}")
    out: dict[str, Any] = {}
    for jkey, pkey, kind in fields:
        if jkey not in value:
            if isinstance(kind, tuple) and kind[0] == "optional":
                out[pkey] = MISSING
                continue
            raise CodecError(f"{path}.{jkey}: missing (required by {shape})")
        out[pkey] = decode(kind, value[jkey], f"{path}.{jkey}")
    return out


def encode(kind: Any, value: Any) -> Any:
    """Python value -> canonical JSON value (minimal QUANTITY, lower-case DATA)."""
    if isinstance(kind, tuple):
        tag = kind[0]
        if tag == "list":
            return [encode(kind[1], v) for v in value]
        if tag in ("nullable", "optional"):
            return None if value is None else encode(kind[1], value)
        if tag == "enum":
            return value
        if tag == "anyof":
            return encode(_pick_alt(kind[1:], value), value)
    if kind in SHAPES:
        return encode_object(kind, value)
    if kind in _BITS:
        return hex(int(value))
    if kind in ("string", "bool"):
        return value
    return "0x" + bytes(value).hex()


def _pick_alt(alts: tuple[str, ...], value: dict[str, Any]) -> str:
    for alt in alts:
        if {p for _, p, _ in SHAPES[alt]} == set(value):
            return alt
    return alts[0]


def encode_object(shape: str, value: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for jkey, pkey, kind in SHAPES[shape]:
        v = value.get(pkey, MISSING)
        if v is MISSING:
            if isinstance(kind, tuple) and kind[0] == "optional":
                continue
            raise CodecError(f"cannot encode {shape}: field {pkey} missing")
        out[jkey] = encode(kind, v)
    return out


# -- payload <-> SSZ containers ----------------------------------------------------------------
PAYLOAD_FORK = {"ExecutionPayloadV1": "bellatrix", "ExecutionPayloadV2": "capella"}
PAYLOAD_FORK["ExecutionPayloadV3"] = "deneb"
FORK_PAYLOAD = {v: k for k, v in PAYLOAD_FORK.items()}


def payload_to_ssz(fork: str, payload: dict[str, Any], preset: str | Preset = "mainnet") -> Any:
    """Decoded JSON payload -> consensus ExecutionPayload of ``fork``."""
    return from_obj_typed(get_type(fork, "ExecutionPayload", preset), payload)


def payload_from_ssz(container: Any) -> dict[str, Any]:
    """Consensus ExecutionPayload -> decoded-JSON-style dict (ints and bytes)."""
    obj = to_obj(container)

    def conv(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("0x"):
            return bytes.fromhex(v[2:])
        if isinstance(v, str):
            return int(v)
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(obj)


# -- methods ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: tuple[Any, ...]  # kinds, positional
    required: int  # how many leading params are required
    result: Any


def _m(name: str, params: tuple[Any, ...], required: int, result: Any) -> MethodSpec:
    return MethodSpec(name, params, required, result)


_FCS = "ForkchoiceStateV1"
_FCR = "ForkchoiceUpdatedResponseV1"
_PS = "PayloadStatusNoInvalidBlockHash"
_BODIES = ("list", ("nullable", "ExecutionPayloadBodyV1"))
METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in [
        _m("engine_exchangeCapabilities", (("list", "string"),), 1, ("list", "string")),
        _m("engine_newPayloadV1", ("ExecutionPayloadV1",), 1, "PayloadStatusV1"),
        _m(
            "engine_newPayloadV2",
            (("anyof", "ExecutionPayloadV2", "ExecutionPayloadV1"),),
            1,
            _PS,
        ),
        _m(
            "engine_newPayloadV3",
            ("ExecutionPayloadV3", ("list", "hash32"), "hash32"),
            3,
            _PS,
        ),
        _m("engine_forkchoiceUpdatedV1", (_FCS, ("nullable", "PayloadAttributesV1")), 1, _FCR),
        _m(
            "engine_forkchoiceUpdatedV2",
            (_FCS, ("nullable", ("anyof", "PayloadAttributesV2", "PayloadAttributesV1"))),
            1,
            _FCR,
        ),
        _m("engine_forkchoiceUpdatedV3", (_FCS, ("nullable", "PayloadAttributesV3")), 1, _FCR),
        _m(
            "engine_forkchoiceUpdatedV4",
            (_FCS, ("nullable", "PayloadAttributesV4"), ("nullable", "bytes16")),
            1,
            _FCR,
        ),
        _m("engine_getPayloadV1", ("bytes8",), 1, "ExecutionPayloadV1"),
        _m("engine_getPayloadBodiesByHashV1", (("list", "hash32"),), 1, _BODIES),
        _m("engine_getPayloadBodiesByRangeV1", ("u64", "u64"), 2, _BODIES),
        _m("engine_getPayloadV2", ("bytes8",), 1, "GetPayloadResponseV2"),
        _m("engine_getPayloadV3", ("bytes8",), 1, "GetPayloadResponseV3"),
    ]
}


def method_spec(method: str) -> MethodSpec:
    try:
        return METHODS[method]
    except KeyError:
        raise KeyError(method) from None


def decode_params(method: str, params: Any) -> list[Any]:
    """Positional params -> Python values; count and each value checked (CodecError = -32602)."""
    spec = method_spec(method)
    if not isinstance(params, list):
        raise CodecError(f"{method}: params must be an array")
    if not spec.required <= len(params) <= len(spec.params):
        raise CodecError(
            f"{method}: expected {spec.required}..{len(spec.params)} params, got {len(params)}"
        )
    return [
        decode(k, v, f"params[{i}]")
        for i, (k, v) in enumerate(zip(spec.params, params, strict=False))
    ]


def encode_params(method: str, values: list[Any]) -> list[Any]:
    spec = method_spec(method)
    return [encode(k, v) for k, v in zip(spec.params, values, strict=False)]


def decode_result(method: str, result: Any) -> Any:
    return decode(method_spec(method).result, result, "result")


def encode_result(method: str, value: Any) -> Any:
    return encode(method_spec(method).result, value)
