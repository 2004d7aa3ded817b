"""Proposal workflow tests on the pure ledger: each breaks exactly one approval rule."""

from __future__ import annotations

import dataclasses
import time

from alys_node.governance import (
    ProposalKind,
    encode_add_member,
    encode_remove_member,
)

from ..base import Outcome, harness_test
from .common import (
    NOW,
    GovernanceHarnessBase,
    rejected,
)


class WorkflowTests(GovernanceHarnessBase):
    # == proposal_workflow ===============================================================
    @harness_test("proposal_workflow")
    async def test_happy_path(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        start = time.perf_counter()
        approval = self._collect(ledger, self._proposal(ledger), self.pool[:t])
        ledger.verify_approval(approval, NOW)
        receipt = ledger.execute(approval, NOW)
        out.record(
            workflow_ms=(time.perf_counter() - start) * 1e3,
            signers=t,
            members=ledger.federation.size,
        )
        out.expect(receipt.proposal_id == approval.proposal.id, "approved proposal executes")
        out.expect(
            ledger.status(approval.proposal.id)["state"] == "executed", "status reports execution"
        )
        again, reason = rejected(ledger.execute, approval, NOW)
        out.expect(again, "execution happens exactly once", f"second execute: {reason}")

    @harness_test("proposal_workflow")
    async def test_expired_proposal(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger, expiry=NOW + 1000)
        approval = self._collect(ledger, p, self.pool[:t])
        for label, now in (("at expiry", p.expiry), ("after expiry", p.expiry + 1)):
            rej, reason = rejected(ledger.verify_approval, approval, now)
            out.expect(rej, "expired proposals are rejected", f"verify {label}: {reason}")
        rej, reason = rejected(
            ledger.sign, p.id, self.pool[t].pk, self._sig(ledger, p, self.pool[t]), p.expiry
        )
        out.expect(rej, "expired proposals are rejected", f"late signature: {reason}")
        late = self._proposal(ledger, expiry=NOW)
        rej, reason = rejected(ledger.propose, late, NOW)
        out.expect(rej, "expired proposals are rejected", f"propose already expired: {reason}")
        rej, reason = rejected(ledger.execute, approval, p.expiry + 1)
        out.expect(rej, "expired proposals are rejected", f"execute after expiry: {reason}")
        out.expect(p.id not in ledger.executed, "expired proposal never executes")

    @harness_test("proposal_workflow")
    async def test_insufficient_signatures(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger)
        approval = self._collect(ledger, p, self.pool[: t - 1]) if t > 1 else None
        if approval is None:
            out.skip("threshold 1 has no insufficient set")
        rej, reason = rejected(ledger.execute, approval, NOW)
        out.expect(rej, "threshold is enforced", f"{t - 1} of {t} signatures: {reason}")
        rej, reason = rejected(ledger.execute_collected, p.id, NOW)
        out.expect(rej, "threshold is enforced", f"execute_collected with {t - 1}: {reason}")

    @harness_test("proposal_workflow")
    async def test_non_member_signature(self, out: Outcome) -> None:
        ledger = self._ledger()
        t, outsider = ledger.federation.threshold, self.pool[-1]
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        rej, reason = rejected(ledger.sign, p.id, outsider.pk, self._sig(ledger, p, outsider), NOW)
        out.expect(rej, "only members may sign", f"outsider signature: {reason}")
        crafted = self._craft(ledger, p, [*self.pool[: t - 1], outsider])
        rej, reason = rejected(ledger.verify_approval, crafted, NOW)
        out.expect(
            rej, "only members count toward the threshold", f"{t - 1} members + outsider: {reason}"
        )
        forged = self._sig(ledger, p, outsider)
        rej, reason = rejected(ledger.sign, p.id, self.pool[0].pk, forged, NOW)
        out.expect(
            rej,
            "a signature must come from the named member",
            f"outsider sig under member key: {reason}",
        )

    @harness_test("proposal_workflow")
    async def test_duplicate_signer(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        honest = self.pool[: max(t - 1, 1)]
        crafted = self._craft(ledger, p, [*honest, honest[0]])  # t entries, t-1 distinct
        rej, reason = rejected(ledger.verify_approval, crafted, NOW)
        out.expect(
            rej,
            "distinct signers: a duplicate is not counted twice",
            f"{len(honest)} distinct + dup: {reason}",
        )
        s = self.pool[0]
        sig = self._sig(ledger, p, s)
        first = ledger.sign(p.id, s.pk, sig, NOW)
        second = ledger.sign(p.id, s.pk, sig, NOW)
        out.expect(
            first == second == 1,
            "distinct signers: re-signing is idempotent",
            f"counts {first}, {second}",
        )

    @harness_test("proposal_workflow")
    async def test_tampered_payload(self, out: Outcome) -> None:
        ledger = self._ledger()
        approval = self._collect(
            ledger,
            self._proposal(ledger, payload=b"transfer=100"),
            self.pool[: ledger.federation.threshold],
        )
        p = approval.proposal
        variants = {
            "payload": dataclasses.replace(p, payload=b"transfer=900"),
            "kind": dataclasses.replace(p, kind=ProposalKind.SET_THRESHOLD),
            "nonce": dataclasses.replace(p, nonce=p.nonce + 1000),
            "expiry": dataclasses.replace(p, expiry=p.expiry + 1),
            "id": dataclasses.replace(p, id=p.id + "x"),
        }
        accepted = [
            f
            for f, v in variants.items()
            if not rejected(ledger.verify_approval, dataclasses.replace(approval, proposal=v), NOW)[
                0
            ]
        ]
        out.record(fields_checked=len(variants))
        out.expect(
            not accepted,
            "signatures are bound to the exact proposal bytes",
            f"accepted tampered {accepted}",
        )
        rej, reason = rejected(ledger.verify_approval, approval, NOW)
        out.expect(not rej, "untampered approval verifies", reason)

    @harness_test("proposal_workflow")
    async def test_replay(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        approval = self._collect(ledger, self._proposal(ledger), self.pool[:t])
        ledger.execute(approval, NOW)
        rej, reason = rejected(ledger.execute, approval, NOW)
        out.expect(rej, "replay protection", f"same approval twice: {reason}")
        same_nonce = dataclasses.replace(approval.proposal, id="again")
        rej, reason = rejected(ledger.propose, same_nonce, NOW)
        out.expect(rej, "replay protection", f"executed nonce reused: {reason}")
        crafted = self._craft(ledger, same_nonce, self.pool[:t])
        rej, reason = rejected(ledger.execute, crafted, NOW)
        out.expect(rej, "replay protection", f"fresh approval for used nonce: {reason}")
        members = [(s.pk, s.pop) for s in self.pool[: self.gov.federation_size]]
        other = self.target.new_ledger(
            self.target.new_federation(members, t, federation_id="other")
        )
        fresh = self._proposal(ledger)
        rej, reason = rejected(other.execute, self._craft(ledger, fresh, self.pool[:t]), NOW)
        out.expect(rej, "replay protection", f"approval replayed on another federation: {reason}")

    @harness_test("proposal_workflow")
    async def test_rotation(self, out: Outcome) -> None:
        n, t = self.gov.federation_size, self.gov.threshold
        ledger = self._ledger(n, t)
        newcomer = self.pool[n]
        add = self._proposal(
            ledger,
            kind=ProposalKind.ADD_MEMBER,
            payload=encode_add_member(newcomer.pk, newcomer.pop),
        )
        pending = self._proposal(ledger)
        approval_add = self._collect(ledger, add, self.pool[:t])
        approval_old = self._collect(ledger, pending, self.pool[:t])
        ledger.propose(probe := self._proposal(ledger), NOW)
        rej, reason = rejected(
            ledger.sign, probe.id, newcomer.pk, self._sig(ledger, probe, newcomer), NOW
        )
        out.expect(
            rej,
            "rotation effective only after execution",
            f"newcomer signed before execution: {reason}",
        )
        epoch = ledger.federation.epoch
        ledger.execute(approval_add, NOW)
        out.expect(ledger.federation.is_member(newcomer.pk), "rotation applies on execution")
        out.expect(
            ledger.federation.epoch == epoch + 1,
            "rotation starts a new epoch",
            f"epoch {ledger.federation.epoch}",
        )
        rej, reason = rejected(ledger.execute, approval_old, NOW)
        out.expect(rej, "approvals of an old epoch are void", f"old-epoch approval: {reason}")
        after = self._collect(ledger, self._proposal(ledger), [newcomer, *self.pool[: t - 1]])
        rej, reason = rejected(ledger.execute, after, NOW)
        out.expect(not rej, "newcomer counts after rotation", reason)
        rm = self._proposal(
            ledger, kind=ProposalKind.REMOVE_MEMBER, payload=encode_remove_member(self.pool[0].pk)
        )
        ledger.execute(self._collect(ledger, rm, self.pool[1 : t + 1]), NOW)
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        rej, reason = rejected(
            ledger.sign, p.id, self.pool[0].pk, self._sig(ledger, p, self.pool[0]), NOW
        )
        out.expect(rej, "a removed member can no longer sign", reason)
        out.record(epochs=ledger.federation.epoch, members=ledger.federation.size)
