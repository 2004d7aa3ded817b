"""Consensus-layer SSZ types (bellatrix, capella, deneb execution payloads) and conversions."""

from .containers import FORKS, TYPE_NAMES, get_type, identify, registered
from .convert import DowngradeError, convert_fork, payload_to_header
from .objects import (
    ConversionError,
    deserialize,
    from_obj,
    from_obj_typed,
    hash_tree_root,
    serialize,
    to_obj,
)
from .presets import MAINNET, MINIMAL, Preset, get_preset

__all__ = [
    "FORKS",
    "MAINNET",
    "MINIMAL",
    "TYPE_NAMES",
    "ConversionError",
    "DowngradeError",
    "Preset",
    "convert_fork",
    "deserialize",
    "from_obj",
    "from_obj_typed",
    "get_preset",
    "get_type",
    "hash_tree_root",
    "identify",
    "payload_to_header",
    "registered",
    "serialize",
    "to_obj",
]
