"""Hypothesis strategies for the Alys domain, with valid and invalid variants.

One module per kind of value: ``primitives`` (hashes, addresses, peer info), ``crypto`` (BLS
keys, signatures, federation aggregates), ``chain`` (signed blocks, chains with forks, one
invalid variant per chain rule), ``wire`` (the node's messages and malformed frames), ``sync``
(checkpoints, sync states, failure schedules), ``actors`` (messages with priorities, senders and
sequence numbers, mailbox bursts, crash schedules), ``governance`` (proposals, Byzantine
members), ``scenarios`` (whole scenarios). Everything is built with the framework's oracles
(encodings, BLS), never with the systems under test.
"""

from .actors import (
    ActorMessage,
    MailboxBurst,
    SupervisionCase,
    mailbox_bursts,
    message_bursts,
    priorities,
    supervision_cases,
)
from .chain import (
    BREAKABLE_RULES,
    Chain,
    InvalidBlock,
    chain_specs,
    chains,
    invalid_blocks,
    signed_blocks,
)
from .crypto import (
    INVALID_SIGNATURES,
    BadSignature,
    FederationSignature,
    Key,
    SignedMessage,
    bls_keys,
    bls_signatures,
    federation_signatures,
    invalid_bls_signatures,
)
from .governance import (
    BYZANTINE,
    Behaviour,
    ByzantineFederation,
    Proposal,
    byzantine_behaviours,
    byzantine_federations,
    invalid_proposals,
    proposals,
)
from .primitives import (
    PeerInfo,
    eth_addresses,
    hashes,
    hex_hashes,
    invalid_hex_hashes,
    invalid_peer_addresses,
    peer_addresses,
    peer_infos,
)
from .scenarios import (
    ActorSystemScenario,
    BlockchainScenario,
    GovernanceScenario,
    actor_system_scenarios,
    blockchain_scenarios,
    governance_scenarios,
)
from .sync import (
    FAULT_KINDS,
    CheckpointCase,
    Fault,
    SyncState,
    checkpoint_cases,
    checkpoints_of,
    failure_schedules,
    sync_states,
)
from .wire import MALFORMED, MalformedFrame, WireMessage, malformed_frames, wire_messages

__all__ = [
    "ActorMessage",
    "ActorSystemScenario",
    "BREAKABLE_RULES",
    "BYZANTINE",
    "BadSignature",
    "Behaviour",
    "BlockchainScenario",
    "ByzantineFederation",
    "Chain",
    "CheckpointCase",
    "FAULT_KINDS",
    "Fault",
    "FederationSignature",
    "GovernanceScenario",
    "INVALID_SIGNATURES",
    "InvalidBlock",
    "Key",
    "MALFORMED",
    "MailboxBurst",
    "MalformedFrame",
    "PeerInfo",
    "Proposal",
    "SignedMessage",
    "SupervisionCase",
    "SyncState",
    "WireMessage",
    "actor_system_scenarios",
    "blockchain_scenarios",
    "bls_keys",
    "bls_signatures",
    "byzantine_behaviours",
    "byzantine_federations",
    "chain_specs",
    "chains",
    "checkpoint_cases",
    "checkpoints_of",
    "eth_addresses",
    "failure_schedules",
    "federation_signatures",
    "governance_scenarios",
    "hashes",
    "hex_hashes",
    "invalid_blocks",
    "invalid_bls_signatures",
    "invalid_hex_hashes",
    "invalid_peer_addresses",
    "invalid_proposals",
    "mailbox_bursts",
    "malformed_frames",
    "message_bursts",
    "peer_addresses",
    "peer_infos",
    "priorities",
    "proposals",
    "signed_blocks",
    "supervision_cases",
    "sync_states",
    "wire_messages",
]
