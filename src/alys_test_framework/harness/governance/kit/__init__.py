"""Helpers of the governance harness: its base class, the property runner, attack constructions
and the Byzantine scenario model. Nothing here is a test."""

from .base import (
    NOW,
    TTL,
    GovernanceHarnessBase,
    evidence_holds,
    raises_value_error,
    verifier_answer,
)
from .properties import PropertyRun, run_property

__all__ = [
    "NOW",
    "TTL",
    "GovernanceHarnessBase",
    "evidence_holds",
    "PropertyRun",
    "raises_value_error",
    "run_property",
    "verifier_answer",
]
