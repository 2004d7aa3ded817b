"""The governance target: the protocol the harness drives, and how to get the default one.

This package's top level imports no system under test, so the harness can depend on it while
the layer rule forbids it every path to ``alys_node``. The reference node's adapter lives in
``alys_node_target`` and is loaded by name, like a harness plugin.
"""

from __future__ import annotations

import importlib

from .members import Signer, make_signers
from .protocol import (
    ActorSession,
    ApprovalValue,
    CryptoSuite,
    DoubleSignEvidenceView,
    FederationView,
    GovernanceTarget,
    Ledger,
    ProposalValue,
    Reply,
    RpcSession,
)

DEFAULT_TARGET = "alys_test_framework.targets.governance.alys_node_target:NodeGovernanceTarget"


def load_target(spec: str = DEFAULT_TARGET) -> GovernanceTarget:
    """Instantiate the target named ``module:Class`` (default: the reference node's)."""
    module, _, attr = spec.partition(":")
    target: GovernanceTarget = getattr(importlib.import_module(module), attr)()
    return target


__all__ = [
    "DEFAULT_TARGET",
    "ActorSession",
    "ApprovalValue",
    "CryptoSuite",
    "DoubleSignEvidenceView",
    "FederationView",
    "GovernanceTarget",
    "Ledger",
    "ProposalValue",
    "Reply",
    "RpcSession",
    "Signer",
    "load_target",
    "make_signers",
]
