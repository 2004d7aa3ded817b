"""Governance proposals and Byzantine federation members.

The behaviours are the seed's list (DoubleSigning, Withholding, Equivocation, DelayedResponses,
InvalidSignatures, VoteFlipping, Collusion) plus Honest; a federation draws one per member, and
``ByzantineFederation.expected_approvals`` is the rule a correct ledger obeys: only honest
on-time signatures by members count, once each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hypothesis import strategies as st

from .crypto import INVALID_SIGNATURES

PROPOSAL_KINDS = ("generic", "add_member", "remove_member", "set_threshold")


class Behaviour(str, Enum):
    HONEST = "Honest"
    DOUBLE_SIGNING = "DoubleSigning"
    WITHHOLDING = "Withholding"
    EQUIVOCATION = "Equivocation"
    DELAYED_RESPONSES = "DelayedResponses"
    INVALID_SIGNATURES = "InvalidSignatures"
    VOTE_FLIPPING = "VoteFlipping"
    COLLUSION = "Collusion"


BYZANTINE = tuple(b for b in Behaviour if b is not Behaviour.HONEST)
#: behaviours whose signature on the proposal still counts (a colluder signs validly; a
#: double signer's first signature is valid, its conflicting one is evidence)
COUNTED = frozenset({Behaviour.HONEST, Behaviour.COLLUSION, Behaviour.DOUBLE_SIGNING})


@dataclass(frozen=True)
class Proposal:
    id: str
    kind: str
    payload: bytes
    nonce: int
    expiry_ms: int
    federation_id: str = "alys"
    epoch: int = 0


def proposals(
    now_ms: int = 1_700_000_000_000, federation_id: str = "alys"
) -> st.SearchStrategy[Proposal]:
    return st.builds(
        Proposal,
        id=st.text("abcdefghij0123456789", min_size=1, max_size=8),
        kind=st.sampled_from(PROPOSAL_KINDS),
        payload=st.binary(max_size=48),
        nonce=st.integers(1, 2**32),
        expiry_ms=st.integers(now_ms + 1, now_ms + 3_600_000),
        federation_id=st.just(federation_id),
        epoch=st.integers(0, 3),
    )


@st.composite
def invalid_proposals(draw: st.DrawFn, now_ms: int = 1_700_000_000_000) -> tuple[str, Proposal]:
    """(kind, proposal): expired, nonce 0, empty id, another federation, unknown kind."""
    p = draw(proposals(now_ms))
    how = draw(
        st.sampled_from(["expired", "nonce_zero", "empty_id", "other_federation", "unknown_kind"])
    )
    invalid: dict[str, dict[str, Any]] = {
        "expired": {"expiry_ms": now_ms},
        "nonce_zero": {"nonce": 0},
        "empty_id": {"id": ""},
        "other_federation": {"federation_id": "other"},
        "unknown_kind": {"kind": "mint"},
    }
    changes = invalid[how]
    return how, dataclasses.replace(p, **changes)


@dataclass(frozen=True)
class ByzantineFederation:
    threshold: int
    behaviours: tuple[Behaviour, ...]  # one per member
    invalid_kinds: tuple[str, ...]  # per member, used by InvalidSignatures
    delays_ms: tuple[int, ...]  # per member, past expiry for DelayedResponses

    @property
    def size(self) -> int:
        return len(self.behaviours)

    def expected_approvals(self) -> int:
        return sum(1 for b in self.behaviours if b in COUNTED)

    def executes(self) -> bool:
        return self.expected_approvals() >= self.threshold

    def __repr__(self) -> str:
        return f"ByzantineFederation(t={self.threshold}, {[b.value for b in self.behaviours]})"


@st.composite
def byzantine_federations(
    draw: st.DrawFn, max_members: int = 7, behaviours: tuple[Behaviour, ...] = tuple(Behaviour)
) -> ByzantineFederation:
    n = draw(st.integers(1, max_members))
    return ByzantineFederation(
        draw(st.integers(1, n)),
        tuple(draw(st.lists(st.sampled_from(behaviours), min_size=n, max_size=n))),
        tuple(draw(st.lists(st.sampled_from(INVALID_SIGNATURES), min_size=n, max_size=n))),
        tuple(draw(st.lists(st.integers(0, 60_000), min_size=n, max_size=n))),
    )


def byzantine_behaviours() -> st.SearchStrategy[Behaviour]:
    return st.sampled_from(BYZANTINE)
