"""The proposal workflow rules of alys_node.governance, one rule per test."""

from __future__ import annotations

import dataclasses
import random

import pytest

from alys_node.crypto import bls
from alys_node.governance import (
    Approval,
    Federation,
    GovernanceError,
    GovernanceLedger,
    Proposal,
    ProposalKind,
    encode_add_member,
    encode_remove_member,
    encode_rotate,
    encode_set_threshold,
)
from alys_test_framework.targets.governance_target import make_signers

NOW = 1_000_000


@pytest.fixture(scope="module")
def signers():
    return make_signers(bls, 7, random.Random(11))


def _fed(signers, n=5, t=3) -> Federation:
    return Federation.create([(s.pk, s.pop) for s in signers[:n]], t)


def _prop(
    ledger: GovernanceLedger,
    pid="p1",
    nonce=1,
    kind=ProposalKind.GENERIC,
    payload=b"x=1",
    expiry=NOW + 1000,
):
    fed = ledger.federation
    return Proposal(pid, kind, payload, nonce, expiry, fed.epoch, fed.federation_id)


def _approve(ledger, proposal, signers, now=NOW):
    ledger.propose(proposal, now)
    msg = ledger.message_for(proposal)
    for s in signers:
        ledger.sign(proposal.id, s.pk, bls.sign(s.sk, msg), now)
    return ledger.aggregate(proposal.id)


def _reason(fn, *args) -> str:
    with pytest.raises(GovernanceError) as info:
        fn(*args)
    return info.value.reason


def test_federation_validation(signers) -> None:
    members = [(s.pk, s.pop) for s in signers[:3]]
    assert _reason(Federation.create, members, 4) == "invalid_federation"
    assert _reason(Federation.create, members, 0) == "invalid_federation"
    assert _reason(Federation.create, [], 1) == "invalid_federation"
    assert _reason(Federation.create, members + members[:1], 2) == "invalid_federation"
    swapped = [(signers[0].pk, signers[1].pop)]
    assert _reason(Federation.create, swapped, 1) == "invalid_pop"


def test_happy_path_executes_exactly_once(signers) -> None:
    ledger = GovernanceLedger(_fed(signers))
    p = _prop(ledger)
    approval = _approve(ledger, p, signers[:3])
    receipt = ledger.execute(approval, NOW)
    assert receipt.signers == 3 and receipt.epoch_after == 0
    assert ledger.status("p1")["state"] == "executed"
    assert _reason(ledger.execute, approval, NOW) == "replay"
    assert _reason(ledger.propose, dataclasses.replace(p, id="p2"), NOW) == "replay"


def test_rules_reject_with_named_reasons(signers) -> None:
    ledger = GovernanceLedger(_fed(signers))
    p = _prop(ledger)
    approval = _approve(ledger, p, signers[:3])
    assert _reason(ledger.verify_approval, approval, p.expiry) == "expired"
    few = Approval(
        p, approval.signers[:2], bls.aggregate([bls.sign(s.sk, p.digest()) for s in signers[:2]])
    )
    assert _reason(ledger.verify_approval, few, NOW) == "insufficient_signatures"
    dup_signers = (signers[0].pk, signers[0].pk, signers[1].pk)
    dup_sig = bls.aggregate(
        [bls.sign(s.sk, p.digest()) for s in (signers[0], signers[0], signers[1])]
    )
    assert (
        _reason(ledger.verify_approval, Approval(p, dup_signers, dup_sig), NOW)
        == "duplicate_signer"
    )
    tampered = dataclasses.replace(approval, proposal=dataclasses.replace(p, payload=b"x=2"))
    assert _reason(ledger.verify_approval, tampered, NOW) == "bad_signature"
    outsider = signers[6]
    assert (
        _reason(ledger.sign, "p1", outsider.pk, bls.sign(outsider.sk, p.digest()), NOW)
        == "not_member"
    )
    assert (
        _reason(ledger.sign, "p1", signers[3].pk, bls.sign(signers[4].sk, p.digest()), NOW)
        == "bad_signature"
    )
    assert (
        _reason(ledger.sign, "p1", signers[3].pk, bls.sign(signers[3].sk, p.digest()), p.expiry)
        == "expired"
    )
    late = _prop(ledger, pid="late", nonce=9, expiry=NOW)
    assert _reason(ledger.propose, late, NOW) == "expired"
    ledger.verify_approval(approval, NOW)  # the untouched approval still passes


def test_double_signing_yields_verifiable_evidence(signers) -> None:
    ledger = GovernanceLedger(_fed(signers))
    a, b = _prop(ledger, "a", nonce=5, payload=b"A"), _prop(ledger, "b", nonce=5, payload=b"B")
    ledger.propose(a, NOW)
    ledger.propose(b, NOW)
    bad = signers[2]
    ledger.sign("a", bad.pk, bls.sign(bad.sk, a.digest()), NOW)
    assert _reason(ledger.sign, "b", bad.pk, bls.sign(bad.sk, b.digest()), NOW) == "double_sign"
    (ev,) = ledger.evidence
    assert ev.member == bad.pk and ev.nonce == 5 and ev.is_valid(bls)
    # re-submitting the same signature is idempotent, not evidence
    assert ledger.sign("a", bad.pk, bls.sign(bad.sk, a.digest()), NOW) == 1
    assert len(ledger.evidence) == 1


def test_rotation_takes_effect_after_execution_and_invalidates_old_epoch(signers) -> None:
    ledger = GovernanceLedger(_fed(signers))
    newcomer = signers[5]
    add = _prop(
        ledger,
        "add",
        nonce=1,
        kind=ProposalKind.ADD_MEMBER,
        payload=encode_add_member(newcomer.pk, newcomer.pop),
    )
    other = _prop(ledger, "other", nonce=2)
    approval_add = _approve(ledger, add, signers[:3])
    approval_other = _approve(ledger, other, signers[:3])
    assert not ledger.federation.is_member(newcomer.pk)  # not before execution
    receipt = ledger.execute(approval_add, NOW)
    assert receipt.epoch_after == 1 and ledger.federation.is_member(newcomer.pk)
    assert ledger.federation.size == 6
    assert _reason(ledger.execute, approval_other, NOW) == "wrong_epoch"
    # remove, threshold, rotate
    rm = _prop(
        ledger,
        "rm",
        nonce=3,
        kind=ProposalKind.REMOVE_MEMBER,
        payload=encode_remove_member(signers[0].pk),
    )
    ledger.execute(_approve(ledger, rm, [newcomer, *signers[1:3]]), NOW)
    assert not ledger.federation.is_member(signers[0].pk) and ledger.federation.epoch == 2
    th = _prop(
        ledger, "th", nonce=4, kind=ProposalKind.SET_THRESHOLD, payload=encode_set_threshold(4)
    )
    ledger.execute(_approve(ledger, th, signers[1:4]), NOW)
    assert ledger.federation.threshold == 4
    rot = _prop(ledger, "rot", nonce=6, kind=ProposalKind.ROTATE,
                payload=encode_rotate([(s.pk, s.pop) for s in signers[4:7]], 2))  # fmt: skip
    ledger.execute(_approve(ledger, rot, signers[1:5]), NOW)
    assert (
        ledger.federation.pubkeys == tuple(s.pk for s in signers[4:7])
        and ledger.federation.threshold == 2
    )
    assert len(ledger.history) == 5


def test_membership_proposals_are_validated_at_creation(signers) -> None:
    ledger = GovernanceLedger(_fed(signers))
    rogue = signers[6]
    bad_pop = encode_add_member(rogue.pk, signers[5].pop)
    assert (
        _reason(
            ledger.propose, _prop(ledger, "x", kind=ProposalKind.ADD_MEMBER, payload=bad_pop), NOW
        )
        == "invalid_pop"
    )
    assert (
        _reason(
            ledger.propose,
            _prop(ledger, "y", kind=ProposalKind.SET_THRESHOLD, payload=encode_set_threshold(6)),
            NOW,
        )
        == "invalid_federation"
    )
    assert (
        _reason(
            ledger.propose,
            _prop(ledger, "z", kind=ProposalKind.REMOVE_MEMBER, payload=rogue.pk),
            NOW,
        )
        == "invalid_payload"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": ""},
        {"id": "a b"},
        {"kind": "nope"},
        {"nonce": -1},
        {"expiry": 2**64},
        {"payload": "str"},
        {"federation_id": ""},
    ],
)
def test_proposal_field_validation(kwargs) -> None:
    base = dict(
        id="p", kind="generic", payload=b"", nonce=0, expiry=1, epoch=0, federation_id="alys"
    )
    base.update(kwargs)
    with pytest.raises(GovernanceError):
        Proposal(**base)


def test_digest_covers_every_field() -> None:
    p = Proposal("p", ProposalKind.GENERIC, b"pay", 1, 2, 3, "alys")
    variants = [
        dataclasses.replace(p, id="q"), dataclasses.replace(p, kind=ProposalKind.SET_THRESHOLD),
        dataclasses.replace(p, payload=b"pax"), dataclasses.replace(p, nonce=2),
        dataclasses.replace(p, expiry=3), dataclasses.replace(p, epoch=4),
        dataclasses.replace(p, federation_id="other"),
    ]  # fmt: skip
    assert len({v.digest() for v in variants} | {p.digest()}) == len(variants) + 1


def test_pending_proposals_are_bounded(signers, monkeypatch) -> None:
    from alys_node.governance import ledger as ledger_mod

    monkeypatch.setattr(ledger_mod, "MAX_PROPOSALS", 3)
    ledger = GovernanceLedger(_fed(signers))
    far = _prop(ledger, "far", nonce=1, expiry=NOW + ledger_mod.MAX_TTL_MS + 1)
    assert _reason(ledger.propose, far, NOW) == "invalid_proposal"
    for i in range(3):
        ledger.propose(_prop(ledger, f"s{i}", nonce=10 + i, expiry=NOW + 10), NOW)
    assert _reason(ledger.propose, _prop(ledger, "x", nonce=20), NOW) == "too_many_proposals"
    later = NOW + 10  # the three short-lived proposals are dead now and make room
    ledger.propose(_prop(ledger, "y", nonce=21, expiry=later + 1000), later)
    assert ledger.pending() == ["y"]
