"""Whole scenarios: a blockchain with faults, an actor system under load and crashes, a
federation with Byzantine members — each one value a property can be stated over."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from .actors import (
    ActorMessage,
    MailboxBurst,
    SupervisionCase,
    mailbox_bursts,
    message_bursts,
    supervision_cases,
)
from .chain import Chain, chains
from .governance import ByzantineFederation, Proposal, byzantine_federations, proposals
from .sync import Fault, failure_schedules


@dataclass(frozen=True)
class BlockchainScenario:
    nodes: int
    chain: Chain
    faults: tuple[Fault, ...]


@st.composite
def blockchain_scenarios(draw: st.DrawFn, max_nodes: int = 4) -> BlockchainScenario:
    n = draw(st.integers(2, max_nodes))
    return BlockchainScenario(n, draw(chains(max_height=8)), draw(failure_schedules(nodes=n)))


@dataclass(frozen=True)
class ActorSystemScenario:
    supervision: SupervisionCase
    burst: MailboxBurst
    traffic: tuple[ActorMessage, ...]


def actor_system_scenarios() -> st.SearchStrategy[ActorSystemScenario]:
    return st.builds(ActorSystemScenario, supervision_cases(), mailbox_bursts(), message_bursts())


@dataclass(frozen=True)
class GovernanceScenario:
    federation: ByzantineFederation
    proposals: tuple[Proposal, ...]


def governance_scenarios() -> st.SearchStrategy[GovernanceScenario]:
    return st.builds(
        GovernanceScenario, byzantine_federations(),
        st.lists(proposals(), min_size=1, max_size=3).map(tuple),
    )  # fmt: skip
