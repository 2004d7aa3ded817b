"""Deliberately broken governance targets: each breaks exactly one rule.

The GovernanceIntegrationHarness must report FAILED, naming the property, on every one of them
(asserted in test_gov_harness.py). Each is the real alys_node implementation with one method or
one crypto call replaced, the way such bugs appear in practice.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyblst
from eth_typing import BLSPubkey, BLSSignature

from alys_node.crypto import bls
from alys_node.governance import GovernanceError, GovernanceLedger, Proposal
from alys_test_framework.targets.governance.alys_node_target import NodeGovernanceTarget

_G1 = pyblst.BlstP1Element.uncompress(bls.sk_to_pk((1).to_bytes(32, "big")))


class _Suite:
    """The real bls module; subclasses override single calls."""

    def __getattr__(self, name: str) -> Any:
        return getattr(bls, name)


# -- ledger rule bugs ------------------------------------------------------------------------
class _ThresholdOffByOneLedger(GovernanceLedger):
    def check_threshold(self, count: int) -> None:
        if count < self.federation.threshold - 1:  # BUG: one signature short is enough
            raise GovernanceError("insufficient_signatures", str(count))


class _UnboundPayloadLedger(GovernanceLedger):
    def message_for(self, proposal: Proposal) -> bytes:
        return dataclasses.replace(proposal, payload=b"").digest()  # BUG: payload not signed


class _UnboundEpochLedger(GovernanceLedger):
    def message_for(self, proposal: Proposal) -> bytes:
        return dataclasses.replace(proposal, epoch=0).digest()  # BUG: epoch not signed


class _UnboundFederationLedger(GovernanceLedger):
    def message_for(self, proposal: Proposal) -> bytes:
        return dataclasses.replace(
            proposal, federation_id="alys"
        ).digest()  # BUG: fed id not signed


class _DuplicateSignersLedger(GovernanceLedger):
    def check_signers(self, signers: tuple[bytes, ...]) -> int:
        for pk in signers:
            if not self.federation.is_member(pk):
                raise GovernanceError("not_member", pk.hex()[:16])
        return len(signers)  # BUG: duplicates counted twice


class _NoExpiryLedger(GovernanceLedger):
    def is_expired(self, proposal: Proposal, now: int) -> bool:
        return False  # BUG: expiry never checked


class _ReplayLedger(GovernanceLedger):
    def execute(self, approval: Any, now: int) -> Any:
        self.executed.pop(approval.proposal.id, None)  # BUG: forgets what was executed
        self.used_nonces.discard(approval.proposal.nonce)
        return super().execute(approval, now)


class _NoDoubleSignLedger(GovernanceLedger):
    def sign(self, proposal_id: str, member: bytes, signature: bytes, now: int) -> int:
        self._signed.clear()  # BUG: no memory of what each member signed per nonce
        return super().sign(proposal_id, member, signature, now)


class _EpochlessDoubleSignLedger(GovernanceLedger):
    def sign(self, proposal_id: str, member: bytes, signature: bytes, now: int) -> int:
        epoch = self.federation.epoch  # BUG: what a member signed per nonce outlives its epoch
        for (_, nonce, who), signed in list(self._signed.items()):
            self._signed.setdefault((epoch, nonce, who), signed)
        return super().sign(proposal_id, member, signature, now)


def _ledger_target(name: str, ledger_cls: type[GovernanceLedger]) -> NodeGovernanceTarget:
    target = NodeGovernanceTarget()
    target.name = name
    target.ledger_class = ledger_cls
    return target


# -- crypto bugs -----------------------------------------------------------------------------
class NoIdentityCheckSuite(_Suite):
    """A raw-group wrapper without the identity-key and empty-list checks."""

    @staticmethod
    def _core(pk_point: Any, message: bytes, sig: bytes, dst: bytes) -> bool:
        s = pyblst.BlstP2Element.uncompress(sig)
        h = pyblst.BlstP2Element.hash_to_group(message, dst)
        return bool(
            pyblst.final_verify(pyblst.miller_loop(pk_point, h), pyblst.miller_loop(_G1, s))
        )

    def verify(self, pk: bytes, message: bytes, sig: bytes) -> bool:
        try:
            return self._core(pyblst.BlstP1Element.uncompress(bytes(pk)), message, sig, bls.DST)
        except (ValueError, TypeError):
            return False

    def pop_verify(self, pk: bytes, proof: bytes) -> bool:
        try:
            return self._core(
                pyblst.BlstP1Element.uncompress(bytes(pk)), bytes(pk), proof, bls.POP_DST
            )
        except (ValueError, TypeError):
            return False

    def fast_aggregate_verify(self, pks: Any, message: bytes, sig: bytes) -> bool:
        try:
            total = pyblst.BlstP1Element()
            for pk in pks:
                total = total + pyblst.BlstP1Element.uncompress(bytes(pk))
            return self._core(total, message, sig, bls.DST)
        except (ValueError, TypeError):
            return False

    def aggregate_verify(self, pks: Any, msgs: Any, sig: bytes) -> bool:
        if not pks:
            return sig == bls.G2_POINT_AT_INFINITY
        return bls.aggregate_verify(pks, msgs, sig)

    def aggregate_pubkeys(self, pks: Any) -> bytes:
        total = pyblst.BlstP1Element()
        for pk in pks:
            total = total + pyblst.BlstP1Element.uncompress(bytes(pk))
        return total.compress()


class NoSubgroupCheckSuite(_Suite):
    """Decodes points on the curve without the subgroup check (falls back to py_ecc for them)."""

    @staticmethod
    def _lenient_verify(pk: bytes, message: bytes, sig: bytes, dst: bytes) -> bool:
        from py_ecc.bls import G2ProofOfPossession as Ref
        from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2
        from py_ecc.bls.hash_to_curve import hash_to_G2
        from py_ecc.optimized_bls12_381 import FQ12, G1, final_exponentiate, neg, pairing

        try:
            p, s = pubkey_to_G1(BLSPubkey(pk)), signature_to_G2(BLSSignature(sig))
        except (ValueError, AssertionError):
            return False
        h = hash_to_G2(message, dst, Ref.xmd_hash_function)  # type: ignore[arg-type]
        ml = pairing(s, G1, final_exponentiate=False) * pairing(h, neg(p), final_exponentiate=False)
        return final_exponentiate(ml) == FQ12.one()

    def verify(self, pk: bytes, message: bytes, sig: bytes) -> bool:
        try:
            bls.PublicKey.from_bytes(pk)
            pyblst.BlstP2Element.uncompress(bytes(sig))
        except ValueError as exc:
            if "NOT_IN_GROUP" in str(exc):  # BUG: "on the curve" taken as "valid"
                return self._lenient_verify(bytes(pk), bytes(message), bytes(sig), bls.DST)
        return bls.verify(pk, message, sig)

    def pop_verify(self, pk: bytes, proof: bytes) -> bool:
        try:
            bls.PublicKey.from_bytes(pk)
            pyblst.BlstP2Element.uncompress(bytes(proof))
        except ValueError as exc:
            if "NOT_IN_GROUP" in str(exc):
                return self._lenient_verify(bytes(pk), bytes(pk), bytes(proof), bls.POP_DST)
        return bls.pop_verify(pk, proof)

    def aggregate(self, sigs: Any) -> bytes:
        from py_ecc.bls.g2_primitives import G2_to_signature, signature_to_G2
        from py_ecc.optimized_bls12_381 import Z2, add

        total = Z2
        for s in sigs:
            total = add(total, signature_to_G2(BLSSignature(bytes(s))))
        return G2_to_signature(total)

    def aggregate_pubkeys(self, pks: Any) -> bytes:
        from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
        from py_ecc.optimized_bls12_381 import Z1, add

        if not pks:
            raise ValueError("empty")
        total = Z1
        for pk in pks:
            total = add(total, pubkey_to_G1(BLSPubkey(bytes(pk))))
        return G1_to_pubkey(total)


class NoPopCheckSuite(_Suite):
    def pop_verify(self, pk: bytes, proof: bytes) -> bool:
        return True  # BUG: registration trusts any key (rogue-key attack)


def _crypto_target(name: str, suite: Any) -> NodeGovernanceTarget:
    target = NodeGovernanceTarget(crypto=suite)
    target.name = name
    return target


# name -> (factory, {harness test that must FAIL: property its message must name})
BROKEN: dict[str, tuple[Any, dict[str, str]]] = {
    "threshold_off_by_one": (
        lambda: _ledger_target("threshold_off_by_one", _ThresholdOffByOneLedger),
        {
            "test_insufficient_signatures": "threshold is enforced",
            "test_threshold_boundaries": "exactly t distinct member signatures",
            "test_property_threshold_enforcement": "threshold enforcement over random federations",
            "test_property_collusion_threshold": "collusion approves only at the threshold",
            "test_property_byzantine_signing": "Byzantine signers never count and are caught",
        },
    ),
    "unbound_payload": (
        lambda: _ledger_target("unbound_payload", _UnboundPayloadLedger),
        {
            "test_tampered_payload": "signatures are bound to the exact proposal bytes",
            "test_property_single_byte_tampering": "any single-byte tampering fails verification",
        },
    ),
    "duplicate_signers_counted": (
        lambda: _ledger_target("duplicate_signers_counted", _DuplicateSignersLedger),
        {
            "test_duplicate_signer": "distinct signers",
            "test_property_threshold_enforcement": "threshold enforcement over random federations",
            "test_property_collusion_threshold": "collusion approves only at the threshold",
        },
    ),
    "no_expiry_check": (
        lambda: _ledger_target("no_expiry_check", _NoExpiryLedger),
        {
            "test_expired_proposal": "expired proposals are rejected",
            "test_property_byzantine_signing": "Byzantine signers never count and are caught",
        },
    ),
    "replay_allowed": (
        lambda: _ledger_target("replay_allowed", _ReplayLedger),
        {
            "test_happy_path": "execution happens exactly once",
            "test_replay": "replay protection",
            "test_property_approval_replay": "an approval holds only in its own federation and epoch",
        },
    ),
    "no_double_sign_detection": (
        lambda: _ledger_target("no_double_sign_detection", _NoDoubleSignLedger),
        {
            "test_double_signing_detected": "double signing is",
            "test_property_byzantine_signing": "Byzantine signers never count and are caught",
        },
    ),
    # caught only by the generated replay attacks: no example-based test rewrites the epoch or
    # the federation id of a replayed approval, or reuses an unexecuted nonce in a new epoch
    "unbound_epoch": (
        lambda: _ledger_target("unbound_epoch", _UnboundEpochLedger),
        {"test_property_approval_replay": "an approval holds only in its own federation and epoch"},
    ),
    "unbound_federation": (
        lambda: _ledger_target("unbound_federation", _UnboundFederationLedger),
        {"test_property_approval_replay": "an approval holds only in its own federation and epoch"},
    ),
    "double_sign_memory_ignores_epoch": (
        lambda: _ledger_target("double_sign_memory_ignores_epoch", _EpochlessDoubleSignLedger),
        {"test_property_approval_replay": "an approval holds only in its own federation and epoch"},
    ),
    "no_identity_check": (
        lambda: _crypto_target("no_identity_check", NoIdentityCheckSuite()),
        {
            "test_identity_and_empty_inputs": "identity keys and empty signer sets never verify",
            "test_conformance_vectors": "Ethereum BLS conformance vectors pass",
        },
    ),
    "no_subgroup_check": (
        lambda: _crypto_target("no_subgroup_check", NoSubgroupCheckSuite()),
        {"test_subgroup_checks": "points outside the r-subgroup are rejected"},
    ),
    "no_pop_check": (
        lambda: _crypto_target("no_pop_check", NoPopCheckSuite()),
        {"test_rogue_key_rejected": "rogue keys have no proof of possession"},
    ),
}
