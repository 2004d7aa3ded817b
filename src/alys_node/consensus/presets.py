"""Consensus presets: the list limits that change SSZ layouts between networks.

Only limits change the merkle shape (a List's limit decides its tree depth), so a preset is just
these numbers; mainnet is the default because the migration targets mainnet-shaped data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    max_bytes_per_transaction: int = 2**30
    max_transactions_per_payload: int = 2**20
    bytes_per_logs_bloom: int = 256
    max_extra_data_bytes: int = 32
    max_withdrawals_per_payload: int = 16


MAINNET = Preset("mainnet")
MINIMAL = Preset("minimal", max_withdrawals_per_payload=4)
PRESETS: dict[str, Preset] = {p.name: p for p in (MAINNET, MINIMAL)}


def get_preset(name: str | Preset) -> Preset:
    """Resolve a preset by name; unknown names fail with the list of valid ones."""
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
