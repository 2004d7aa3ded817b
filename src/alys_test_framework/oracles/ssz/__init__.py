"""SSZ oracle: the consensus specs' execution containers on remerkleable, and their roots."""

from .containers import FORKS, SpecTypes, spec_types
from .values import engine_values, from_obj, hash_tree_root, header_of, upgrade_obj

__all__ = [
    "FORKS",
    "SpecTypes",
    "engine_values",
    "from_obj",
    "hash_tree_root",
    "header_of",
    "spec_types",
    "upgrade_obj",
]
