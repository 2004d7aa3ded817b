"""Threshold boundaries, Byzantine members and Hypothesis properties."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pyblst

from alys_node.crypto import bls
from alys_node.governance import (
    GovernanceError,
    ProposalKind,
    encode_add_member,
)

from ..base import Outcome, harness_test
from .common import (
    NOW,
    GovernanceHarnessBase,
    rejected,
)


class AdversarialTests(GovernanceHarnessBase):
    # == threshold =======================================================================
    @harness_test("threshold")
    async def test_threshold_boundaries(self, out: Outcome) -> None:
        shapes = sorted(
            {(self.gov.federation_size, self.gov.threshold), (1, 1), (4, 4), (7, 4), (8, 1)}
        )
        wrong = []
        for n, t in shapes:
            ledger = self._ledger(n, t)
            p = self._proposal(ledger)
            ledger.propose(p, NOW)
            for k in range(max(t - 1, 0), min(t + 1, n) + 1):
                if k == 0:
                    continue
                accepted = not rejected(
                    ledger.verify_approval, self._craft(ledger, p, self.pool[:k]), NOW
                )[0]
                if accepted != (k >= t):
                    wrong.append(f"N={n} t={t} k={k} accepted={accepted}")
        out.record(shapes=len(shapes))
        out.expect(not wrong, "exactly t distinct member signatures are required", "; ".join(wrong))

    @harness_test("threshold")
    async def test_threshold_applies_to_collected_signatures(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        results = []
        for k, s in enumerate(self.pool[:t], start=1):
            ledger.sign(p.id, s.pk, self._sig(ledger, p, s), NOW)
            if k < t:
                results.append(
                    (k, rejected(ledger.verify_approval, ledger.aggregate(p.id), NOW)[0])
                )
        premature = [k for k, refused in results if not refused]
        out.expect(
            not premature, "threshold is enforced", f"approved with only {premature} signatures"
        )
        ledger.execute_collected(p.id, NOW)
        out.expect(p.id in ledger.executed, "t collected signatures execute")

    # == byzantine =======================================================================
    @harness_test("byzantine")
    async def test_double_signing_detected(self, out: Outcome) -> None:
        ledger = self._ledger()
        nonce = self._nonce = self._nonce + 1
        a = self._proposal(ledger, payload=b"to=alice", nonce=nonce, pid=f"a{nonce}")
        b = self._proposal(ledger, payload=b"to=mallory", nonce=nonce, pid=f"b{nonce}")
        ledger.propose(a, NOW)
        ledger.propose(b, NOW)
        byz = self.pool[1]
        ledger.sign(a.id, byz.pk, self._sig(ledger, a, byz), NOW)
        rej, reason = rejected(ledger.sign, b.id, byz.pk, self._sig(ledger, b, byz), NOW)
        out.expect(rej, "double signing is refused", reason)
        evidence = [e for e in ledger.evidence if e.member == byz.pk and e.nonce == nonce]
        out.expect(
            bool(evidence),
            "double signing is detected and reported",
            f"{len(ledger.evidence)} evidence records",
        )
        if evidence:
            out.expect(evidence[0].is_valid(self.target.crypto), "evidence is self-verifying")
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
            rej, reason = rejected(ledger.execute, short, NOW)
            out.expect(rej, "threshold is enforced", f"{t - 1} honest members alone: {reason}")

    @harness_test("byzantine")
    async def test_rogue_key_rejected(self, out: Outcome) -> None:
        c = self.target.crypto
        victims, attacker = self.pool[:2], self.pool[-2]
        x = int.from_bytes(attacker.sk, "big")
        point = pyblst.BlstP1Element.uncompress(bls.sk_to_pk((1).to_bytes(32, "big"))).scalar_mul(x)
        for v in victims:
            point = point + (-pyblst.BlstP1Element.uncompress(v.pk))
        rogue = point.compress()  # sum(victims) + rogue = x * G
        forged = c.sign(attacker.sk, b"steal")
        works = c.fast_aggregate_verify([*(v.pk for v in victims), rogue], b"steal", forged)
        out.record(rogue_forgery_verifies_without_pop=bool(works))
        stolen_pop = c.pop_prove(attacker.sk)
        out.expect(not c.pop_verify(rogue, stolen_pop), "rogue keys have no proof of possession")
        rej, reason = rejected(
            self.target.new_federation, [(v.pk, v.pop) for v in victims] + [(rogue, stolen_pop)], 3
        )
        out.expect(rej, "rogue key registration is rejected", f"federation: {reason}")
        ledger = self._ledger()
        add = self._proposal(
            ledger, kind=ProposalKind.ADD_MEMBER, payload=encode_add_member(rogue, stolen_pop)
        )
        rej, reason = rejected(ledger.propose, add, NOW)
        out.expect(rej, "rogue key registration is rejected", f"add_member proposal: {reason}")

    # == properties ======================================================================
    @harness_test("properties", timeout_s=240)
    async def test_property_threshold_enforcement(self, out: Outcome) -> None:
        """Accepted iff the signers are distinct members and at least t of them (random N, t, sets)."""
        from hypothesis import strategies as st

        pool, outsiders = self.pool[:8], self.pool[8:]

        @st.composite
        def scenario(draw: Any) -> tuple[int, int, list[int], int]:
            n = draw(st.integers(1, len(pool)))
            t = draw(st.integers(1, n))
            order = draw(st.permutations(list(range(n))))
            return n, t, order, draw(st.integers(0, len(outsiders) - 1))

        feds: dict[tuple[int, int], Any] = {}

        def check(case: tuple[int, int, list[int], int]) -> None:
            """Around the boundary (t-1, t, t+1 members), plus a duplicate or an outsider."""
            n, t, order, out_idx = case
            if (n, t) not in feds:
                feds[(n, t)] = self.target.new_federation([(s.pk, s.pop) for s in pool[:n]], t)
            ledger = self.target.new_ledger(feds[(n, t)])
            p = self._proposal(ledger, nonce=1, pid="prop")
            for k in range(max(t - 1, 1), min(t + 1, n) + 1):
                base = [pool[i] for i in order[:k]]
                for extra, chosen in (
                    ("none", base),
                    ("duplicate", [*base, base[-1]]),
                    ("outsider", [*base, outsiders[out_idx]]),
                ):
                    accepted = not rejected(
                        ledger.verify_approval, self._craft(ledger, p, chosen), NOW
                    )[0]
                    expected = extra == "none" and k >= t
                    assert accepted == expected, (
                        f"N={n} t={t} {k} distinct members + {extra}: accepted={accepted}"
                    )

        violation, examples = await asyncio.to_thread(self._hypothesis, scenario(), check)
        out.record(examples=examples)
        out.expect(
            violation is None, "threshold enforcement over random federations", violation or ""
        )

    @harness_test("properties", timeout_s=240)
    async def test_property_single_byte_tampering(self, out: Outcome) -> None:
        """Flipping any one byte of the signature, payload, id or a signer key breaks verification."""
        from hypothesis import strategies as st

        ledger = self._ledger()
        t = ledger.federation.threshold
        approval = self._craft(
            ledger, self._proposal(ledger, payload=bytes(range(48))), self.pool[:t]
        )
        ledger.verify_approval(approval, NOW)
        fields = ("signature", "payload", "id", "signer")

        def tamper(case: tuple[str, int, int]) -> None:
            field, pos, mask = case
            p = approval.proposal
            if field == "signature":
                sig = bytearray(approval.signature)
                sig[pos % len(sig)] ^= mask
                bad = dataclasses.replace(approval, signature=bytes(sig))
            elif field == "payload":
                pl = bytearray(p.payload)
                pl[pos % len(pl)] ^= mask
                bad = dataclasses.replace(
                    approval, proposal=dataclasses.replace(p, payload=bytes(pl))
                )
            elif field == "id":
                raw = bytearray(p.id.encode())
                raw[pos % len(raw)] = (
                    ord("a") + (raw[pos % len(raw)] - ord("a") + 1 + mask % 25) % 26
                )
                try:
                    bad = dataclasses.replace(
                        approval, proposal=dataclasses.replace(p, id=raw.decode())
                    )
                except GovernanceError:
                    return
            else:
                signers = [bytearray(s) for s in approval.signers]
                k = pos % len(signers)
                signers[k][(pos // len(signers)) % 48] ^= mask
                bad = dataclasses.replace(approval, signers=tuple(bytes(s) for s in signers))
            refused, _ = rejected(ledger.verify_approval, bad, NOW)
            assert refused, f"tampered {field} at {pos} (xor {mask:#x}) still verifies"

        strategy = st.tuples(st.sampled_from(fields), st.integers(0, 2**16), st.integers(1, 255))
        violation, examples = await asyncio.to_thread(self._hypothesis, strategy, tamper)
        out.record(examples=examples)
        out.expect(
            violation is None, "any single-byte tampering fails verification", violation or ""
        )
