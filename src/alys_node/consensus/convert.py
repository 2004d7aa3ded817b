"""Cross-fork conversion: payload -> header, fork upgrade and lossless-only downgrade.

A downgrade is refused when the newer fork's data is not at its default, because dropping
withdrawals or blob gas would change what the block means; the error names the lost field.
"""

from __future__ import annotations

from typing import Any

from remerkleable.complex import Container

from .containers import fork_index, get_type, identify


class DowngradeError(ValueError):
    """The conversion would lose data; the message names the field."""


def payload_to_header(payload: Container) -> Container:
    """The ExecutionPayloadHeader committing to ``payload`` (list fields become their roots)."""
    fork, name, preset = identify(payload)
    if name != "ExecutionPayload":
        raise ValueError(f"payload_to_header needs an ExecutionPayload, got {name}")
    htype = get_type(fork, "ExecutionPayloadHeader", preset)
    values = {}
    for key in htype.fields():
        if key == "transactions_root":
            values[key] = payload.transactions.hash_tree_root()
        elif key == "withdrawals_root":
            values[key] = payload.withdrawals.hash_tree_root()
        else:
            values[key] = getattr(payload, key)
    return htype(**values)


def _empty_value(fork: str, preset: str, key: str, ftype: Any) -> Any:
    """The value a field has when it carries no data (empty withdrawals list root, not zeros)."""
    if key == "withdrawals_root":
        wl = get_type(fork, "ExecutionPayload", preset).fields()["withdrawals"]
        return ftype(wl.default(None).hash_tree_root())
    return ftype.default(None)


def convert_fork(obj: Container, to_fork: str) -> Container:
    """Same object in ``to_fork``: new fields get defaults, removed fields must be empty.

    An upgraded header equals payload_to_header of the upgraded payload, so conversions commute.
    """
    fork, name, preset = identify(obj)
    if fork_index(to_fork) == fork_index(fork):
        return obj
    newer = fork if fork_index(fork) > fork_index(to_fork) else to_fork
    target = get_type(to_fork, name, preset)
    src_fields = type(obj).fields()
    tgt_fields = target.fields()
    for key, ftype in src_fields.items():
        if key in tgt_fields:
            continue
        empty = _empty_value(newer, preset, key, ftype)
        if getattr(obj, key).hash_tree_root() != empty.hash_tree_root():
            raise DowngradeError(
                f"cannot convert {fork}.{name} to {to_fork}: field {key} is not empty "
                "and would be lost"
            )
    values = {}
    for key, ftype in tgt_fields.items():
        if key in src_fields:
            values[key] = getattr(obj, key)
        else:
            values[key] = _empty_value(newer, preset, key, ftype)
    return target(**values)
