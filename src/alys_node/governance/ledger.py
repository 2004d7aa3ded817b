"""The proposal workflow as a pure state machine: propose -> sign -> aggregate -> verify -> execute.

No I/O and no clock: every call that depends on time takes ``now`` (ms) from the caller, so the
same sequence of calls always gives the same answers. Each rule of approval is one small method
(``is_expired``, ``check_signers``, ``check_threshold``, ``check_signature``, ``message_for``) so
the rules are easy to read and a deliberately broken variant is a one-method subclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..crypto import bls
from .federation import Federation
from .proposal import GovernanceError, Proposal, parse_hex, proposal_from_json

MAX_PROPOSALS = 10_000
MAX_TTL_MS = 30 * 24 * 3600 * 1000  # bounded lifetime: pending proposals cannot pile up forever


@dataclass(frozen=True)
class Approval:
    """An aggregated approval: what a member relays and what execution checks."""

    proposal: Proposal
    signers: tuple[bytes, ...]
    signature: bytes

    def to_json(self) -> dict:
        return {
            "proposal": self.proposal.to_json(),
            "signers": ["0x" + s.hex() for s in self.signers],
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, d: object) -> Approval:
        if not isinstance(d, dict) or not isinstance(d.get("signers"), list):
            raise GovernanceError("invalid_approval", "approval needs proposal, signers, signature")
        signers = tuple(parse_hex(s, "signer") for s in d["signers"])
        return cls(
            proposal_from_json(d.get("proposal")),
            signers,
            parse_hex(d.get("signature"), "signature"),
        )


@dataclass(frozen=True)
class DoubleSignEvidence:
    """A member signed two different proposals for the same (epoch, nonce): self-verifying proof."""

    member: bytes
    epoch: int
    nonce: int
    first: tuple[str, bytes, bytes]  # (proposal id, digest, signature)
    second: tuple[str, bytes, bytes]

    def is_valid(self, crypto: Any = bls) -> bool:
        (_, d1, s1), (_, d2, s2) = self.first, self.second
        return (
            d1 != d2 and crypto.verify(self.member, d1, s1) and crypto.verify(self.member, d2, s2)
        )

    def to_json(self) -> dict:
        return {
            "member": "0x" + self.member.hex(),
            "epoch": self.epoch,
            "nonce": self.nonce,
            "proposals": [self.first[0], self.second[0]],
        }


@dataclass(frozen=True)
class Receipt:
    proposal_id: str
    kind: str
    nonce: int
    signers: int
    epoch_before: int
    epoch_after: int
    executed_at: int


@dataclass
class _Entry:
    proposal: Proposal
    signatures: dict[bytes, bytes] = field(default_factory=dict)  # member pubkey -> signature


class GovernanceLedger:
    """Holds the federation, pending proposals, their signatures, executions and evidence."""

    def __init__(self, federation: Federation, *, crypto: Any = bls) -> None:
        self.federation = federation
        self.crypto = crypto
        self.history: list[Federation] = [federation]
        self._entries: dict[str, _Entry] = {}
        self._signed: dict[tuple[int, int, bytes], tuple[str, bytes, bytes]] = {}
        self.used_nonces: set[int] = set()
        self.executed: dict[str, Receipt] = {}
        self.evidence: list[DoubleSignEvidence] = []

    # -- the rules (override one to build a broken variant) ----------------------------
    def message_for(self, proposal: Proposal) -> bytes:
        """What a member signs for ``proposal``: its digest, covering every field."""
        return proposal.digest()

    def is_expired(self, proposal: Proposal, now: int) -> bool:
        return proposal.is_expired(now)

    def check_signers(self, signers: tuple[bytes, ...]) -> int:
        """Number of distinct member signers; duplicates and outsiders are rejected outright."""
        if len(set(signers)) != len(signers):
            raise GovernanceError("duplicate_signer", "a member appears twice among the signers")
        for pk in signers:
            if not self.federation.is_member(pk):
                raise GovernanceError("not_member", f"0x{bytes(pk).hex()[:16]} is not a member")
        return len(signers)

    def check_threshold(self, count: int) -> None:
        if count < self.federation.threshold:
            raise GovernanceError(
                "insufficient_signatures", f"{count} of threshold {self.federation.threshold}"
            )

    def check_signature(self, approval: Approval) -> None:
        keys = [self.federation.parsed_key(pk) for pk in approval.signers]
        if not self.crypto.fast_aggregate_verify(
            keys, self.message_for(approval.proposal), approval.signature
        ):
            raise GovernanceError("bad_signature", "aggregate signature does not verify")

    # -- workflow -----------------------------------------------------------------------
    def propose(self, proposal: Proposal, now: int) -> Proposal:
        if proposal.id in self._entries or proposal.id in self.executed:
            raise GovernanceError("duplicate_id", f"proposal {proposal.id} already exists")
        self._check_live(proposal, now)
        if proposal.expiry > now + MAX_TTL_MS:
            raise GovernanceError("invalid_proposal", f"expiry more than {MAX_TTL_MS} ms ahead")
        if len(self._entries) >= MAX_PROPOSALS:
            self.prune(now)
            if len(self._entries) >= MAX_PROPOSALS:
                raise GovernanceError("too_many_proposals", f"limit {MAX_PROPOSALS}")
        self.federation.check_effect(proposal, self.crypto)  # e.g. a new member's PoP, now
        self._entries[proposal.id] = _Entry(proposal)
        return proposal

    def sign(self, proposal_id: str, member: bytes, signature: bytes, now: int) -> int:
        """Record one member's signature; returns the number of distinct signatures so far."""
        entry = self._entry(proposal_id)
        proposal, member = entry.proposal, bytes(member)
        self._check_live(proposal, now)
        if not self.federation.is_member(member):
            raise GovernanceError("not_member", f"0x{member.hex()[:16]} is not a member")
        message = self.message_for(proposal)
        if not self.crypto.verify(self.federation.parsed_key(member), message, signature):
            raise GovernanceError("bad_signature", "signature does not verify for this proposal")
        slot = (proposal.epoch, proposal.nonce, member)
        previous = self._signed.get(slot)
        if previous is not None and previous[1] != message:
            ev = DoubleSignEvidence(
                member,
                proposal.epoch,
                proposal.nonce,
                previous,
                (proposal.id, message, bytes(signature)),
            )
            self.evidence.append(ev)
            raise GovernanceError(
                "double_sign",
                f"member signed {previous[0]} and {proposal.id} for nonce {proposal.nonce}",
            )
        self._signed[slot] = (proposal.id, message, bytes(signature))
        entry.signatures[member] = bytes(signature)
        return len(entry.signatures)

    def aggregate(self, proposal_id: str) -> Approval:
        entry = self._entry(proposal_id)
        if not entry.signatures:
            raise GovernanceError("insufficient_signatures", "no signatures collected")
        signers = tuple(entry.signatures)
        sig = self.crypto.aggregate([entry.signatures[pk] for pk in signers])
        return Approval(entry.proposal, signers, sig)

    def verify_approval(self, approval: Approval, now: int) -> None:
        """Raise GovernanceError naming the first rule the approval breaks."""
        proposal = approval.proposal
        if proposal.federation_id != self.federation.federation_id:
            raise GovernanceError("wrong_federation", proposal.federation_id)
        if proposal.epoch != self.federation.epoch:
            raise GovernanceError(
                "wrong_epoch",
                f"proposal epoch {proposal.epoch}, federation {self.federation.epoch}",
            )
        if self.is_expired(proposal, now):
            raise GovernanceError("expired", f"expiry {proposal.expiry} <= now {now}")
        self.check_threshold(self.check_signers(tuple(bytes(s) for s in approval.signers)))
        self.check_signature(approval)

    def execute(self, approval: Approval, now: int) -> Receipt:
        """Apply an approved proposal exactly once; membership changes start a new epoch."""
        proposal = approval.proposal
        if proposal.id in self.executed or proposal.nonce in self.used_nonces:
            raise GovernanceError("replay", f"proposal {proposal.id} / nonce {proposal.nonce} used")
        self.verify_approval(approval, now)
        before = self.federation
        after = before.apply(proposal, self.crypto)
        self.used_nonces.add(proposal.nonce)
        receipt = Receipt(
            proposal.id, proposal.kind.value, proposal.nonce, len(approval.signers),
            before.epoch, after.epoch, now,
        )  # fmt: skip
        self.executed[proposal.id] = receipt
        self._entries.pop(proposal.id, None)
        if after is not before:
            self.federation = after
            self.history.append(after)
        return receipt

    def execute_collected(self, proposal_id: str, now: int) -> Receipt:
        if proposal_id in self.executed:
            raise GovernanceError("replay", f"proposal {proposal_id} already executed")
        return self.execute(self.aggregate(proposal_id), now)

    def prune(self, now: int) -> int:
        """Forget pending proposals that can never execute (expired or from an older epoch)."""
        dead = [
            pid
            for pid, e in self._entries.items()
            if self.is_expired(e.proposal, now) or e.proposal.epoch != self.federation.epoch
        ]
        for pid in dead:
            del self._entries[pid]
        return len(dead)

    # -- queries ------------------------------------------------------------------------
    def status(self, proposal_id: str) -> dict:
        if proposal_id in self.executed:
            r = self.executed[proposal_id]
            return {"id": proposal_id, "state": "executed", "epoch_after": r.epoch_after}
        entry = self._entry(proposal_id)
        return {
            "id": proposal_id,
            "state": "pending",
            "proposal": entry.proposal.to_json(),
            "message": "0x" + self.message_for(entry.proposal).hex(),
            "signatures": len(entry.signatures),
            "threshold": self.federation.threshold,
            "signers": ["0x" + pk.hex() for pk in entry.signatures],
        }

    def pending(self) -> list[str]:
        return list(self._entries)

    def _entry(self, proposal_id: str) -> _Entry:
        entry = self._entries.get(proposal_id)
        if entry is None:
            if proposal_id in self.executed:
                raise GovernanceError("already_executed", proposal_id)
            raise GovernanceError("unknown_proposal", str(proposal_id))
        return entry

    def _check_live(self, proposal: Proposal, now: int) -> None:
        if proposal.federation_id != self.federation.federation_id:
            raise GovernanceError("wrong_federation", proposal.federation_id)
        if proposal.epoch != self.federation.epoch:
            raise GovernanceError("wrong_epoch", f"federation is at epoch {self.federation.epoch}")
        if self.is_expired(proposal, now):
            raise GovernanceError("expired", f"expiry {proposal.expiry} <= now {now}")
        if proposal.nonce in self.used_nonces:
            raise GovernanceError("replay", f"nonce {proposal.nonce} already executed")
