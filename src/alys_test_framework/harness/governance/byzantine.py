"""byzantine: misbehaving members, one scripted attack each (double signing with evidence the
oracle checks, withholding, a rogue key without proof of possession)."""

from __future__ import annotations

from ...oracles import bls
from ..base import Outcome, harness_test
from .kit import NOW, GovernanceHarnessBase, evidence_holds
from .kit.attacks import rogue_key


class ByzantineTests(GovernanceHarnessBase):
    @harness_test("byzantine")
    async def test_double_signing_detected(self, out: Outcome) -> None:
        ledger = self._ledger()
        nonce = self._next_nonce()
        a = self._proposal(ledger, payload=b"to=alice", nonce=nonce, pid=f"a{nonce}")
        b = self._proposal(ledger, payload=b"to=mallory", nonce=nonce, pid=f"b{nonce}")
        ledger.propose(a, NOW)
        ledger.propose(b, NOW)
        byz = self.pool[1]
        ledger.sign(a.id, byz.pk, self._sig(ledger, a, byz), NOW)
        rej, reason = self.rejected(ledger.sign, b.id, byz.pk, self._sig(ledger, b, byz), NOW)
        out.expect(rej, "double signing is refused", reason)
        evidence = [e for e in ledger.evidence if e.member == byz.pk and e.nonce == nonce]
        out.expect(
            bool(evidence),
            "double signing is detected and reported",
            f"{len(ledger.evidence)} evidence records",
        )
        if evidence:
            out.expect(evidence_holds(evidence[0]), "evidence is self-verifying")
            self.ctx.events.emit("byzantine_evidence", self.name, **evidence[0].to_json())
        honest_other = self.pool[2]
        ledger.sign(b.id, honest_other.pk, self._sig(ledger, b, honest_other), NOW)
        out.expect(len(ledger.evidence) == len(evidence), "honest signers are not accused")

    @harness_test("byzantine")
    async def test_withholding_members(self, out: Outcome) -> None:
        n, t = self.gov.federation_size, self.gov.threshold
        ledger = self._ledger(n, t)
        honest = self.pool[n - t : n]  # the first n - t members withhold
        approval = self._collect(ledger, self._proposal(ledger), honest)
        ledger.execute(approval, NOW)
        out.expect(
            approval.proposal.id in ledger.executed, "t honest members suffice despite withholding"
        )
        if t > 1:
            short = self._collect(ledger, self._proposal(ledger), self.pool[n - t + 1 : n])
            rej, reason = self.rejected(ledger.execute, short, NOW)
            out.expect(rej, "threshold is enforced", f"{t - 1} honest members alone: {reason}")

    @harness_test("byzantine")
    async def test_rogue_key_rejected(self, out: Outcome) -> None:
        c = self.target.crypto
        victims, attacker = self.pool[:2], self.pool[-2]
        rogue = rogue_key([v.pk for v in victims], attacker.sk)  # sum(victims) + rogue = x * G
        forged = bls.sign(attacker.sk, b"steal")
        works = c.fast_aggregate_verify([*(v.pk for v in victims), rogue], b"steal", forged)
        out.record(rogue_forgery_verifies_without_pop=bool(works))
        stolen_pop = bls.pop_prove(attacker.sk)
        out.expect(not c.pop_verify(rogue, stolen_pop), "rogue keys have no proof of possession")
        rej, reason = self.rejected(
            self.target.new_federation, [(v.pk, v.pop) for v in victims] + [(rogue, stolen_pop)], 3
        )
        out.expect(rej, "rogue key registration is rejected", f"federation: {reason}")
        ledger = self._ledger()
        add = self._proposal(
            ledger, kind="add_member", payload=self.target.add_member_payload(rogue, stolen_pop)
        )
        rej, reason = self.rejected(ledger.propose, add, NOW)
        out.expect(rej, "rogue key registration is rejected", f"add_member proposal: {reason}")
