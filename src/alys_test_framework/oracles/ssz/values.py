"""Plain objects (the ssz_static ``value.yaml`` convention) into spec containers and back out.

Rules:
- keys are the spec's snake_case field names; uint64 is an int, uint256 a decimal string or int,
  bytes 0x-hex; a missing or unknown key is an error naming its path (a silently dropped field
  is exactly what a compatibility check must see);
- ``header_of`` follows bellatrix/capella/deneb ``ExecutionPayloadHeader``: every scalar field
  copied, ``transactions_root = hash_tree_root(payload.transactions)`` and
  ``withdrawals_root = hash_tree_root(payload.withdrawals)``;
- ``upgrade_obj`` follows the fork upgrades: capella adds empty withdrawals (root of the empty
  list in a header), deneb adds ``blob_gas_used = excess_blob_gas = 0``.
"""

from __future__ import annotations

from typing import Any

from remerkleable.basic import uint
from remerkleable.byte_arrays import ByteList, ByteVector
from remerkleable.complex import Container, List
from remerkleable.core import View

from .containers import FORKS, spec_types


def _from(typ: type[View], obj: Any, path: str) -> View:
    if issubclass(typ, ByteVector | ByteList):
        if not isinstance(obj, str) or not obj.startswith("0x"):
            raise ValueError(f"{path}: expected 0x-hex, got {obj!r:.40}")
        return typ(bytes.fromhex(obj[2:]))
    if issubclass(typ, uint):
        if isinstance(obj, bool) or not isinstance(obj, int | str):
            raise ValueError(f"{path}: expected an integer, got {obj!r:.40}")
        return typ(int(obj))
    if issubclass(typ, Container):
        if not isinstance(obj, dict):
            raise ValueError(f"{path}: expected a mapping for {typ.__name__}")
        fields = typ.fields()
        missing, extra = sorted(set(fields) - set(obj)), sorted(set(obj) - set(fields))
        if missing or extra:
            raise ValueError(f"{path}: {typ.__name__} missing {missing}, unknown {extra}")
        return typ(**{k: _from(t, obj[k], f"{path}.{k}") for k, t in fields.items()})
    if issubclass(typ, List):
        if not isinstance(obj, list):
            raise ValueError(f"{path}: expected a list")
        elem = typ.element_cls()
        return typ(*[_from(elem, x, f"{path}[{i}]") for i, x in enumerate(obj)])
    raise ValueError(f"{path}: unsupported type {typ.__name__}")


def from_obj(fork: str, name: str, obj: Any, preset: str = "mainnet") -> View:
    """The spec container of (fork, name) holding ``obj``."""
    return _from(spec_types(preset).get(fork, name), obj, "$")


def hash_tree_root(fork: str, name: str, obj: Any, preset: str = "mainnet") -> str:
    """0x-hex hash_tree_root of ``obj`` as (fork, name)."""
    return "0x" + bytes(from_obj(fork, name, obj, preset).hash_tree_root()).hex()


def header_of(fork: str, payload: dict[str, Any], preset: str = "mainnet") -> dict[str, Any]:
    """The ExecutionPayloadHeader object committing to ``payload``."""
    view = from_obj(fork, "ExecutionPayload", payload, preset)
    header = {k: v for k, v in payload.items() if k not in ("transactions", "withdrawals")}
    fields = type(view).fields()
    header["transactions_root"] = "0x" + bytes(view.transactions.hash_tree_root()).hex()
    if "withdrawals" in fields:
        header["withdrawals_root"] = "0x" + bytes(view.withdrawals.hash_tree_root()).hex()
    order = list(spec_types(preset).get(fork, "ExecutionPayloadHeader").fields())
    return {k: header[k] for k in order}


def _empty_withdrawals_root(preset: str) -> str:
    typ = spec_types(preset).get("capella", "ExecutionPayload").fields()["withdrawals"]
    return "0x" + bytes(typ().hash_tree_root()).hex()


def upgrade_obj(name: str, obj: dict[str, Any], to_fork: str, preset: str = "mainnet") -> dict:
    """``obj`` (a bellatrix payload or header) as the spec upgrades it to ``to_fork``."""
    if to_fork not in FORKS:
        raise ValueError(f"unknown fork {to_fork!r}")
    out = dict(obj)
    if FORKS.index(to_fork) >= 1:
        if name == "ExecutionPayload":
            out.setdefault("withdrawals", [])
        else:
            out.setdefault("withdrawals_root", _empty_withdrawals_root(preset))
    if to_fork == "deneb":
        out.setdefault("blob_gas_used", 0)
        out.setdefault("excess_blob_gas", 0)
    order = list(spec_types(preset).get(to_fork, name).fields())
    return {k: out[k] for k in order}


def engine_values(obj: Any) -> Any:
    """A ``value.yaml`` payload as Engine codec values: 0x-hex -> bytes, numbers -> int."""
    if isinstance(obj, dict):
        return {k: engine_values(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [engine_values(x) for x in obj]
    if isinstance(obj, str) and obj.startswith("0x"):
        return bytes.fromhex(obj[2:])
    if isinstance(obj, str):
        return int(obj)
    return obj


def from_engine_values(values: Any) -> Any:
    """The inverse of ``engine_values``: bytes -> 0x-hex, ints stay ints."""
    if isinstance(values, dict):
        return {k: from_engine_values(v) for k, v in values.items()}
    if isinstance(values, list):
        return [from_engine_values(x) for x in values]
    if isinstance(values, bytes | bytearray):
        return "0x" + bytes(values).hex()
    return values
