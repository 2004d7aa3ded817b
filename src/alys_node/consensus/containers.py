"""SSZ execution-layer containers per fork, registered by (fork, name) for each preset.

Types are built per preset (limits change tree depths) and cached, so that ``get_type`` always
returns the same class for the same key and remerkleable's equality/caching keep working.
"""

from __future__ import annotations

from functools import cache

from remerkleable.basic import uint64, uint256
from remerkleable.byte_arrays import ByteList, Bytes32, ByteVector
from remerkleable.complex import Container, List

from .presets import Preset, get_preset

FORKS: tuple[str, ...] = ("bellatrix", "capella", "deneb")
TYPE_NAMES: tuple[str, ...] = ("ExecutionPayload", "ExecutionPayloadHeader", "Withdrawal")
# first fork in which each type exists
INTRODUCED: dict[str, str] = {
    "ExecutionPayload": "bellatrix",
    "ExecutionPayloadHeader": "bellatrix",
    "Withdrawal": "capella",
}

Address = ByteVector[20]


def _container(name: str, fields: dict[str, type]) -> type[Container]:
    return type(name, (Container,), {"__annotations__": dict(fields), "__module__": __name__})


def _payload_fields(fork: str, p: Preset, withdrawal: type | None, header: bool) -> dict:
    fields: dict[str, type] = {
        "parent_hash": Bytes32,
        "fee_recipient": Address,
        "state_root": Bytes32,
        "receipts_root": Bytes32,
        "logs_bloom": ByteVector[p.bytes_per_logs_bloom],
        "prev_randao": Bytes32,
        "block_number": uint64,
        "gas_limit": uint64,
        "gas_used": uint64,
        "timestamp": uint64,
        "extra_data": ByteList[p.max_extra_data_bytes],
        "base_fee_per_gas": uint256,
        "block_hash": Bytes32,
    }
    if header:
        fields["transactions_root"] = Bytes32
    else:
        tx = ByteList[p.max_bytes_per_transaction]
        fields["transactions"] = List[tx, p.max_transactions_per_payload]
    if fork in ("capella", "deneb"):
        if header:
            fields["withdrawals_root"] = Bytes32
        else:
            fields["withdrawals"] = List[withdrawal, p.max_withdrawals_per_payload]
    if fork == "deneb":
        fields["blob_gas_used"] = uint64
        fields["excess_blob_gas"] = uint64
    return fields


@cache
def _build(preset: Preset) -> dict[tuple[str, str], type[Container]]:
    out: dict[tuple[str, str], type[Container]] = {}
    withdrawal = _container(
        "Withdrawal",
        {"index": uint64, "validator_index": uint64, "address": Address, "amount": uint64},
    )
    for fork in FORKS:
        w = withdrawal if fork != "bellatrix" else None
        if w is not None:
            out[(fork, "Withdrawal")] = w
        out[(fork, "ExecutionPayload")] = _container(
            "ExecutionPayload", _payload_fields(fork, preset, w, header=False)
        )
        out[(fork, "ExecutionPayloadHeader")] = _container(
            "ExecutionPayloadHeader", _payload_fields(fork, preset, w, header=True)
        )
    return out


_REVERSE: dict[type, tuple[str, str, str]] = {}


def get_type(fork: str, name: str, preset: str | Preset = "mainnet") -> type[Container]:
    """The container class for (fork, name); a clear ValueError for unknown keys."""
    p = get_preset(preset)
    if fork not in FORKS:
        raise ValueError(f"unknown fork {fork!r}; choose one of: {', '.join(FORKS)}")
    table = _build(p)
    try:
        typ = table[(fork, name)]
    except KeyError:
        known = sorted(n for f, n in table if f == fork)
        raise ValueError(f"no type {name!r} in fork {fork}; known: {', '.join(known)}") from None
    _REVERSE.setdefault(typ, (fork, name, p.name))
    return typ


def registered() -> list[tuple[str, str]]:
    """Every (fork, name) key, in fork order."""
    return list(_build(get_preset("mainnet")).keys())


def identify(obj_or_type: object) -> tuple[str, str, str]:
    """(fork, name, preset) of a registered type or of one of its instances."""
    typ = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    if typ not in _REVERSE:
        for pname in ("mainnet", "minimal"):
            for (fork, name), t in _build(get_preset(pname)).items():
                _REVERSE.setdefault(t, (fork, name, pname))
    try:
        return _REVERSE[typ]
    except KeyError:
        raise ValueError(f"{typ.__name__} is not a registered consensus type") from None


def fork_index(fork: str) -> int:
    if fork not in FORKS:
        raise ValueError(f"unknown fork {fork!r}; choose one of: {', '.join(FORKS)}")
    return FORKS.index(fork)
