"""Helpers of the Lighthouse harness: the driver, per-test branches, vectors and cited checks."""

from .base import PAYLOAD_SHAPE, REQUIRED_METHODS, LighthouseBase
from .branches import BRANCH_TESTS, AnchorPool, GenesisUnknown, discover_genesis
from .driver import ZERO32, EngineCallError, EngineDriver, Produced
from .vectors import PACKAGED_VECTORS, SszCase, find_vectors, ssz_cases
from .verdicts import expect, first, require

__all__ = [
    "BRANCH_TESTS",
    "PACKAGED_VECTORS",
    "PAYLOAD_SHAPE",
    "REQUIRED_METHODS",
    "ZERO32",
    "AnchorPool",
    "EngineCallError",
    "EngineDriver",
    "GenesisUnknown",
    "LighthouseBase",
    "Produced",
    "SszCase",
    "discover_genesis",
    "expect",
    "find_vectors",
    "first",
    "require",
    "ssz_cases",
]
