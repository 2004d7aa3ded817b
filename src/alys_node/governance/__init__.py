"""Federation governance: proposals approved by BLS threshold signatures (pure logic).

The actor wrapper (``governance.actor``) and its JSON-RPC binding (``governance.rpc``) are
imported only by the node, so this package stays free of I/O and of the actor runtime.
"""

from .federation import Federation, Member
from .ledger import Approval, DoubleSignEvidence, GovernanceLedger, Receipt
from .proposal import (
    GovernanceError,
    Proposal,
    ProposalKind,
    encode_add_member,
    encode_remove_member,
    encode_rotate,
    encode_set_threshold,
)

__all__ = [
    "Approval",
    "DoubleSignEvidence",
    "Federation",
    "GovernanceError",
    "GovernanceLedger",
    "Member",
    "Proposal",
    "ProposalKind",
    "Receipt",
    "encode_add_member",
    "encode_remove_member",
    "encode_rotate",
    "encode_set_threshold",
]
