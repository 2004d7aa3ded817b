"""BLS validation (vectors, identity, subgroup, lengths, py_ecc reference) and aggregation."""

from __future__ import annotations

import asyncio
import time

import pyblst

from alys_node.crypto import bls
from alys_node.crypto.conformance import load_vectors, run_case

from ...targets.governance_target import (
    make_signers,
)
from ..base import Outcome, harness_test
from .common import (
    TORSION_G1,
    GovernanceHarnessBase,
    add_torsion,
    raises_value_error,
    rejected,
    verifier_answer,
)


class CryptoTests(GovernanceHarnessBase):
    # == bls_validation ==================================================================
    @harness_test("bls_validation")
    async def test_conformance_vectors(self, out: Outcome) -> None:
        vectors = load_vectors()
        failures = []
        for case in vectors:
            ok, detail = run_case(self.target.crypto, case)
            if not ok:
                failures.append(f"{case['name']} ({detail})")
        out.record(vectors=len(vectors), vector_failures=len(failures))
        out.expect(not failures, "Ethereum BLS conformance vectors pass", "; ".join(failures[:5]))

    @harness_test("bls_validation")
    async def test_identity_and_empty_inputs(self, out: Outcome) -> None:
        c, s = self.target.crypto, self.pool[0]
        inf_pk, inf_sig = bls.G1_POINT_AT_INFINITY, bls.G2_POINT_AT_INFINITY
        neg_pk = bytes([s.pk[0] ^ 0x20]) + s.pk[1:]  # -pk: cancels pk in a sum
        accepted = [
            label
            for label, ok in (
                ("verify(identity pk, identity sig)", c.verify(inf_pk, b"m", inf_sig)),
                (
                    "fast_aggregate_verify([], identity sig)",
                    c.fast_aggregate_verify([], b"m", inf_sig),
                ),
                (
                    "fast_aggregate_verify([identity], identity)",
                    c.fast_aggregate_verify([inf_pk], b"m", inf_sig),
                ),
                (
                    "fast_aggregate_verify([pk, -pk], identity)",
                    c.fast_aggregate_verify([s.pk, neg_pk], b"m", inf_sig),
                ),
                ("aggregate_verify([], [], identity)", c.aggregate_verify([], [], inf_sig)),
                ("pop_verify(identity, identity)", c.pop_verify(inf_pk, inf_sig)),
            )
            if ok
        ]
        out.expect(
            not accepted, "identity keys and empty signer sets never verify", ", ".join(accepted)
        )
        raised = {
            "aggregate([])": raises_value_error(c.aggregate, []),
            "aggregate_pubkeys([])": raises_value_error(c.aggregate_pubkeys, []),
            "aggregate_pubkeys([identity])": raises_value_error(c.aggregate_pubkeys, [inf_pk]),
            "sign(zero key)": raises_value_error(c.sign, bytes(32), b"m"),
        }
        missing = [k for k, v in raised.items() if not v]
        out.expect(not missing, "invalid inputs to producers raise ValueError", ", ".join(missing))

    @harness_test("bls_validation")
    async def test_subgroup_checks(self, out: Outcome) -> None:
        c, s = self.target.crypto, self.pool[0]
        torsion = TORSION_G1
        twin = add_torsion(s.pk)  # same secret, different (non-subgroup) key bytes
        twin_pop = (
            pyblst.BlstP2Element.hash_to_group(twin, bls.POP_DST)
            .scalar_mul(int.from_bytes(s.sk, "big"))
            .compress()
        )
        msg = b"subgroup"
        sig = c.sign(s.sk, msg)
        accepted = [
            label
            for label, ok in await asyncio.to_thread(
                lambda: [
                    ("verify(pk + torsion)", c.verify(twin, msg, sig)),
                    ("pop_verify(pk + torsion)", c.pop_verify(twin, twin_pop)),
                    ("verify(torsion point)", c.verify(torsion, msg, sig)),
                ]
            )
            if ok
        ]
        out.expect(not accepted, "points outside the r-subgroup are rejected", ", ".join(accepted))
        g2_off = b"\xa0" + bytes(94) + b"\x02"  # on the G2 twist, not in the subgroup
        raised = {
            "aggregate([off-subgroup sig])": raises_value_error(c.aggregate, [sig, g2_off]),
            "aggregate_pubkeys([pk + torsion])": raises_value_error(c.aggregate_pubkeys, [twin]),
        }
        missing = [k for k, v in raised.items() if not v]
        out.expect(not missing, "points outside the r-subgroup are rejected", ", ".join(missing))
        rej, reason = rejected(self.target.new_federation, [(s.pk, s.pop), (twin, twin_pop)], 2)
        out.expect(
            rej, "one secret cannot hold two seats", f"federation with pk and pk+torsion: {reason}"
        )

    @harness_test("bls_validation")
    async def test_length_and_type_checks(self, out: Outcome) -> None:
        c, s = self.target.crypto, self.pool[0]
        sig = c.sign(s.sk, b"m")
        cases = {
            "short pk": (s.pk[:47], b"m", sig),
            "long pk": (s.pk + b"\x00", b"m", sig),
            "short sig": (s.pk, b"m", sig[:95]),
            "long sig": (s.pk, b"m", sig + b"\x00"),
            "str message": (s.pk, "m", sig),
        }
        answers = {k: verifier_answer(c.verify, *args) for k, args in cases.items()}
        accepted = [k for k, a in answers.items() if a is True]
        raised = [f"{k} ({a})" for k, a in answers.items() if isinstance(a, str)]
        out.expect(not accepted, "malformed inputs are rejected", ", ".join(accepted))
        out.expect(not raised, "verifiers answer False instead of raising", ", ".join(raised))
        out.expect(
            raises_value_error(c.sign, s.sk[:31], b"m"), "short secret key raises ValueError"
        )
        out.expect(
            raises_value_error(c.aggregate, [sig[:95]]), "short signature cannot be aggregated"
        )

    @harness_test("bls_validation", timeout_s=120)
    async def test_reference_cross_check(self, out: Outcome) -> None:
        """Same keys and signatures as py_ecc (the IETF reference); kept to two cases: ~0.5 s each."""
        from py_ecc.bls import G2ProofOfPossession as Ref

        c, rng = self.target.crypto, self.ctx.rng("gov-xcheck")

        def compare() -> list[str]:
            diffs = []
            for i in range(2):
                ikm, msg = rng.randbytes(32), rng.randbytes(1 + rng.randrange(64))
                sk = c.key_gen(ikm)
                ref_sk = Ref.KeyGen(ikm)
                if int.from_bytes(sk, "big") != ref_sk:
                    diffs.append(f"case {i}: key_gen")
                pk, sig = c.sk_to_pk(sk), c.sign(sk, msg)
                if pk != Ref.SkToPk(ref_sk) or sig != Ref.Sign(ref_sk, msg):
                    diffs.append(f"case {i}: pk/sig bytes")
                if i == 0 and not Ref.Verify(pk, msg, sig):
                    diffs.append("reference rejects the target's signature")
            return diffs

        start = time.perf_counter()
        diffs = await asyncio.to_thread(compare)
        out.record(reference_s=time.perf_counter() - start)
        out.expect(not diffs, "agrees with the py_ecc reference", "; ".join(diffs))

    # == aggregation =====================================================================
    @harness_test("aggregation", timeout_s=120)
    async def test_aggregation_scaling(self, out: Outcome) -> None:
        c = self.target.crypto
        top = self.gov.max_aggregation_signers
        sizes = sorted({min(k, top) for k in (3, 10, 32, 64, 100)} | {top})
        signers = await asyncio.to_thread(make_signers, c, max(sizes), self.ctx.rng("gov-agg"))
        msg = b"aggregation " + bytes(8)
        sigs = await asyncio.to_thread(lambda: [c.sign(s.sk, msg) for s in signers])
        keys = [bls.PublicKey.from_bytes(s.pk) for s in signers]
        failures = []
        for k in sizes:
            start = time.perf_counter()
            agg = c.aggregate(sigs[:k])
            agg_ms = (time.perf_counter() - start) * 1e3
            start = time.perf_counter()
            ok = c.fast_aggregate_verify(keys[:k], msg, agg)
            fav_ms = (time.perf_counter() - start) * 1e3
            out.record(
                **{
                    f"aggregate_{k}_ms": round(agg_ms, 3),
                    f"fast_aggregate_verify_{k}_ms": round(fav_ms, 3),
                }
            )
            if not ok:
                failures.append(f"{k} signers: valid aggregate rejected")
            if c.fast_aggregate_verify(keys[: k - 1], msg, agg):
                failures.append(f"{k} signers: aggregate verified with a key missing")
            if c.fast_aggregate_verify(keys[:k], msg + b"!", agg):
                failures.append(f"{k} signers: aggregate verified for another message")
        out.expect(
            not failures,
            "aggregates verify exactly for their signer set and message",
            "; ".join(failures),
        )
        perm = list(range(min(10, len(sigs))))
        self.ctx.rng("gov-perm").shuffle(perm)
        same = c.aggregate([sigs[i] for i in perm]) == c.aggregate(sigs[: len(perm)])
        out.expect(same, "aggregation is order independent")

    @harness_test("aggregation")
    async def test_aggregate_verify_distinct_messages(self, out: Outcome) -> None:
        c = self.target.crypto
        signers = self.pool[:5]
        msgs = [f"block {i}".encode() for i in range(len(signers))]
        agg = c.aggregate([c.sign(s.sk, m) for s, m in zip(signers, msgs, strict=True)])
        pks = [s.pk for s in signers]
        out.expect(
            c.aggregate_verify(pks, msgs, agg),
            "aggregate_verify accepts a valid multi-message aggregate",
        )
        out.expect(
            not c.aggregate_verify(pks, msgs[::-1], agg),
            "aggregate_verify binds each key to its message",
        )
        out.expect(
            not c.aggregate_verify(pks[:-1], msgs[:-1], agg), "aggregate_verify needs every signer"
        )
