"""Former home of the governance target; kept so existing imports work. Use
``alys_test_framework.targets.governance`` (protocol) and ``.governance.alys_node_target``."""

from __future__ import annotations

from .governance import CryptoSuite, GovernanceTarget, Signer, make_signers
from .governance.alys_node_target import NodeGovernanceTarget

__all__ = ["CryptoSuite", "GovernanceTarget", "NodeGovernanceTarget", "Signer", "make_signers"]
