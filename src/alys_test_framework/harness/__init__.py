"""Harnesses: one module per harness, registered per phase in ``registry``."""

from .base import (
    BaseHarness,
    HarnessContext,
    Outcome,
    PropertyViolation,
    TestHarness,
    harness_test,
)

__all__ = [
    "BaseHarness",
    "HarnessContext",
    "Outcome",
    "PropertyViolation",
    "TestHarness",
    "harness_test",
]
