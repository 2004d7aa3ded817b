"""GovernanceIntegrationHarness: the federation's BLS threshold approvals, attacked.

Every verdict comes from driving the target (by default the real alys_node ledger and BLS module)
with real keys and signatures: conformance vectors, crafted invalid points, workflows that break
one rule each (expiry, threshold, membership, duplicates, payload binding, replay, rotation),
Byzantine members and property tests over random federations, plus the same workflow through the
node's GovernanceActor and over JSON-RPC on a real node process. The ledger takes logical time
(``now`` in ms), so no verdict depends on the wall clock; timings are only metrics.

The test groups live in ``governance_parts`` (one concept per module); this class assembles them.
Mixin order fixes the report order: workflow, node, crypto, adversarial.
"""

from __future__ import annotations

from .governance_parts.adversarial import AdversarialTests
from .governance_parts.common import GovernanceHarnessBase
from .governance_parts.crypto import CryptoTests
from .governance_parts.node import NodeTests
from .governance_parts.workflow import WorkflowTests


class GovernanceIntegrationHarness(AdversarialTests, CryptoTests, NodeTests, WorkflowTests):
    name = "governance"
    categories = (
        "proposal_workflow",
        "bls_validation",
        "threshold",
        "aggregation",
        "byzantine",
        "properties",
    )


__all__ = ["GovernanceHarnessBase", "GovernanceIntegrationHarness"]
