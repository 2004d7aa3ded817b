"""Plain-object (YAML/JSON-like) conversion and SSZ (de)serialization for registered types.

Keys are snake_case exactly as in consensus-spec-tests ``value.yaml``: uint64 as int, uint256 as a
decimal string, bytes as 0x-hex. Conversion is strict (missing or unknown keys are errors) because
a silently dropped field is precisely the incompatibility this module exists to catch.
"""

from __future__ import annotations

from typing import Any

from remerkleable.basic import uint, uint256
from remerkleable.byte_arrays import ByteList, ByteVector
from remerkleable.complex import Container, List, Vector
from remerkleable.core import View

from .containers import get_type
from .presets import Preset


class ConversionError(ValueError):
    """Input that does not fit the type; the message names the field path."""


def _hex_to_bytes(value: Any, path: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ConversionError(f"{path}: expected 0x-prefixed hex, got {value!r:.60}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ConversionError(f"{path}: invalid hex {value!r:.60}") from None


def from_obj_typed(typ: type[View], obj: Any, path: str = "$") -> View:
    """Build a view of ``typ`` from a plain object (recursive, strict)."""
    try:
        if issubclass(typ, ByteVector | ByteList):
            return typ(_hex_to_bytes(obj, path))
        if issubclass(typ, uint):
            if isinstance(obj, bool) or not isinstance(obj, int | str):
                raise ConversionError(f"{path}: expected an integer, got {obj!r:.60}")
            return typ(int(obj, 0) if isinstance(obj, str) and obj.startswith("0x") else int(obj))
        if issubclass(typ, Container):
            if not isinstance(obj, dict):
                raise ConversionError(f"{path}: expected a mapping for {typ.__name__}")
            fields = typ.fields()
            missing = [k for k in fields if k not in obj]
            extra = [k for k in obj if k not in fields]
            if missing or extra:
                raise ConversionError(
                    f"{path}: {typ.__name__} missing {missing} unknown {extra}".replace(" []", "")
                )
            return typ(**{k: from_obj_typed(t, obj[k], f"{path}.{k}") for k, t in fields.items()})
        if issubclass(typ, List | Vector):
            if not isinstance(obj, list):
                raise ConversionError(f"{path}: expected a list")
            elem = typ.element_cls()
            return typ(*[from_obj_typed(elem, x, f"{path}[{i}]") for i, x in enumerate(obj)])
    except ConversionError:
        raise
    except Exception as exc:  # remerkleable range/length errors
        raise ConversionError(f"{path}: {exc}") from None
    raise ConversionError(f"{path}: unsupported type {typ.__name__}")


def to_obj(view: View) -> Any:
    """Plain object in the consensus-spec-tests YAML convention."""
    if isinstance(view, ByteVector | ByteList):
        return "0x" + bytes(view).hex()
    if isinstance(view, uint256):
        return str(int(view))
    if isinstance(view, uint):
        return int(view)
    if isinstance(view, Container):
        return {k: to_obj(getattr(view, k)) for k in type(view).fields()}
    if isinstance(view, List | Vector):
        return [to_obj(x) for x in view]
    raise ConversionError(f"unsupported view {type(view).__name__}")


def from_obj(fork: str, name: str, obj: Any, preset: str | Preset = "mainnet") -> Container:
    return from_obj_typed(get_type(fork, name, preset), obj)


def serialize(view: View) -> bytes:
    return view.encode_bytes()


def deserialize(fork: str, name: str, data: bytes, preset: str | Preset = "mainnet") -> Container:
    typ = get_type(fork, name, preset)
    try:
        return typ.decode_bytes(data)
    except Exception as exc:
        raise ConversionError(
            f"cannot decode {fork}.{name} from {len(data)} bytes: {exc}"
        ) from None


def hash_tree_root(view: View) -> bytes:
    return bytes(view.hash_tree_root())
