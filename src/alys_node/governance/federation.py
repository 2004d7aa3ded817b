"""The federation: who may approve, how many must, and in which epoch.

A Federation value is immutable. A membership change is never applied in place: executing an
approved membership proposal produces the next Federation with ``epoch + 1``, so the change is
effective only after execution and every approval gathered under the old epoch stops verifying.

Every member must present a proof of possession of its secret key at registration. Without it,
an attacker could register the rogue key ``x*G - pk_victim`` and alone produce an aggregate
signature that verifies as "attacker and victim both approved".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..crypto import bls
from .proposal import (
    PK_LEN,
    POP_LEN,
    GovernanceError,
    Proposal,
    ProposalKind,
    decode_members,
    decode_threshold,
)


@dataclass(frozen=True)
class Member:
    pubkey: bytes
    pop: bytes


@dataclass(frozen=True)
class Federation:
    federation_id: str
    members: tuple[Member, ...]
    threshold: int
    epoch: int = 0
    _keys: dict[bytes, bls.PublicKey] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        members: Iterable[tuple[bytes, bytes] | Member],
        threshold: int,
        *,
        federation_id: str = "alys",
        epoch: int = 0,
        crypto: Any = bls,
        trusted: frozenset[bytes] = frozenset(),
    ) -> Federation:
        """Validate and build a federation; raises GovernanceError("invalid_federation").

        Keys in ``trusted`` skip the PoP check: members carried over from a federation that
        already validated them, or genesis keys fixed by the chain spec (see ``genesis``).
        """
        parsed = tuple(
            m if isinstance(m, Member) else Member(bytes(m[0]), bytes(m[1])) for m in members
        )
        if not parsed:
            raise GovernanceError("invalid_federation", "a federation needs at least one member")
        if not isinstance(threshold, int) or not 1 <= threshold <= len(parsed):
            raise GovernanceError(
                "invalid_federation", f"threshold {threshold} outside [1, {len(parsed)}]"
            )
        seen: set[bytes] = set()
        keys: dict[bytes, bls.PublicKey] = {}
        for m in parsed:
            if m.pubkey in seen:
                raise GovernanceError(
                    "invalid_federation", f"duplicate member 0x{m.pubkey.hex()[:16]}"
                )
            seen.add(m.pubkey)
            if m.pubkey not in trusted and not crypto.pop_verify(m.pubkey, m.pop):
                raise GovernanceError(
                    "invalid_pop",
                    f"member 0x{m.pubkey.hex()[:16]} has no valid proof of possession",
                )
            try:
                keys[m.pubkey] = bls.PublicKey.from_bytes(m.pubkey)
            except ValueError as exc:
                raise GovernanceError("invalid_federation", str(exc)) from None
        return cls(federation_id, parsed, threshold, epoch, keys)

    @classmethod
    def genesis(
        cls, pubkeys: Iterable[bytes], threshold: int | None = None, *, federation_id: str = "alys"
    ) -> Federation:
        """The federation named by a chain spec, which carries keys but no proofs of possession.

        The spec is the trust root every node shares, so its keys are accepted without PoP;
        every member added later must prove possession. Default threshold: 2/3 + 1.
        """
        keys = [bytes(pk) for pk in pubkeys]
        t = threshold if threshold is not None else len(keys) * 2 // 3 + 1
        return cls.create(
            [Member(pk, b"") for pk in keys],
            t,
            federation_id=federation_id,
            trusted=frozenset(keys),
        )

    # -- queries -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def pubkeys(self) -> tuple[bytes, ...]:
        return tuple(m.pubkey for m in self.members)

    def is_member(self, pubkey: bytes) -> bool:
        return bytes(pubkey) in self._keys

    def parsed_key(self, pubkey: bytes) -> bls.PublicKey:
        """The cached parsed key of a member (KeyError for non-members)."""
        return self._keys[bytes(pubkey)]

    def to_json(self) -> dict:
        return {
            "federation_id": self.federation_id,
            "epoch": self.epoch,
            "threshold": self.threshold,
            "members": ["0x" + m.pubkey.hex() for m in self.members],
        }

    # -- transitions ---------------------------------------------------------------------
    def check_effect(self, proposal: Proposal, crypto: Any = bls) -> None:
        """Raise GovernanceError if executing ``proposal`` now could not succeed."""
        self.apply(proposal, crypto)

    def apply(self, proposal: Proposal, crypto: Any = bls) -> Federation:
        """The federation after executing ``proposal`` (itself for non-membership kinds)."""
        kind, payload = proposal.kind, proposal.payload
        if not kind.changes_membership:
            return self
        members = list(self.members)
        threshold = self.threshold
        if kind is ProposalKind.ADD_MEMBER:
            if len(payload) != PK_LEN + POP_LEN:
                raise GovernanceError("invalid_payload", "add_member needs pubkey(48) || pop(96)")
            members.append(Member(payload[:PK_LEN], payload[PK_LEN:]))
        elif kind is ProposalKind.REMOVE_MEMBER:
            pk = bytes(payload)
            if not self.is_member(pk):
                raise GovernanceError("invalid_payload", "remove_member names a non-member")
            members = [m for m in members if m.pubkey != pk]
            if threshold > len(members):  # never lower the bar silently
                raise GovernanceError(
                    "invalid_payload", "removal would leave fewer members than the threshold"
                )
        elif kind is ProposalKind.SET_THRESHOLD:
            if len(payload) != 4:
                raise GovernanceError("invalid_payload", "set_threshold needs a u32")
            threshold = decode_threshold(payload)
        elif kind is ProposalKind.ROTATE:
            threshold = decode_threshold(payload)
            members = [Member(pk, pop) for pk, pop in decode_members(payload[4:])]
        return Federation.create(
            members,
            threshold,
            federation_id=self.federation_id,
            epoch=self.epoch + 1,
            crypto=crypto,
            trusted=frozenset(self.pubkeys),  # already validated; only newcomers prove possession
        )
