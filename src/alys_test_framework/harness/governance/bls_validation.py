"""bls_validation: the target's BLS suite against the consensus-spec vectors, the identity and
empty-input rules, subgroup checks, lengths and types, and the py_ecc reference.

Vectors come from the framework's own data and are run by the oracle's runner; crafted points
come from kit/attacks.py. The target's suite is only ever the thing answering.
"""

from __future__ import annotations

import asyncio
import time

from ...oracles import bls
from ..base import Outcome, harness_test
from .kit import GovernanceHarnessBase, raises_value_error, verifier_answer
from .kit.attacks import G2_OFF_SUBGROUP, TORSION_G1, add_torsion, twin_pop


class BlsValidationTests(GovernanceHarnessBase):
    @harness_test("bls_validation")
    async def test_conformance_vectors(self, out: Outcome) -> None:
        vectors = bls.load_vectors()
        failures = []
        for case in vectors:
            ok, detail = bls.run_case(self.target.crypto, case)
            if not ok:
                failures.append(f"{case['name']} ({detail})")
        out.record(vectors=len(vectors), vector_failures=len(failures))
        out.expect(not failures, "Ethereum BLS conformance vectors pass", "; ".join(failures[:5]))

    @harness_test("bls_validation")
    async def test_identity_and_empty_inputs(self, out: Outcome) -> None:
        c, s = self.target.crypto, self.pool[0]
        inf_pk, inf_sig = bls.G1_POINT_AT_INFINITY, bls.G2_POINT_AT_INFINITY
        neg_pk = bls.negate_pubkey(s.pk)  # -pk: cancels pk in a sum
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
        twin_proof = twin_pop(s.sk, twin)
        msg = b"subgroup"
        sig = c.sign(s.sk, msg)
        accepted = [
            label
            for label, ok in await asyncio.to_thread(
                lambda: [
                    ("verify(pk + torsion)", c.verify(twin, msg, sig)),
                    ("pop_verify(pk + torsion)", c.pop_verify(twin, twin_proof)),
                    ("verify(torsion point)", c.verify(torsion, msg, sig)),
                ]
            )
            if ok
        ]
        out.expect(not accepted, "points outside the r-subgroup are rejected", ", ".join(accepted))
        g2_off = G2_OFF_SUBGROUP
        raised = {
            "aggregate([off-subgroup sig])": raises_value_error(c.aggregate, [sig, g2_off]),
            "aggregate_pubkeys([pk + torsion])": raises_value_error(c.aggregate_pubkeys, [twin]),
        }
        missing = [k for k, v in raised.items() if not v]
        out.expect(not missing, "points outside the r-subgroup are rejected", ", ".join(missing))
        rej, reason = self.rejected(
            self.target.new_federation, [(s.pk, s.pop), (twin, twin_proof)], 2
        )
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
        """Same keys and signatures as the oracle and py_ecc (the IETF reference); two cases,
        since a py_ecc signature takes ~0.5 s."""
        c, rng = self.target.crypto, self.ctx.rng("gov-xcheck")

        def compare() -> list[str]:
            diffs = []
            for i in range(2):
                ikm, msg = rng.randbytes(32), rng.randbytes(1 + rng.randrange(64))
                sk = c.key_gen(ikm)
                if sk != bls.key_gen(ikm):
                    diffs.append(f"case {i}: key_gen")
                    continue
                pk, sig = c.sk_to_pk(sk), c.sign(sk, msg)
                if pk != bls.sk_to_pk(sk) or sig != bls.sign(sk, msg):
                    diffs.append(f"case {i}: pk/sig bytes differ from the oracle's")
                if pk != bls.reference_sk_to_pk(sk) or sig != bls.reference_sign(sk, msg):
                    diffs.append(f"case {i}: pk/sig bytes differ from py_ecc's")
                if i == 0 and not bls.reference_verify(pk, msg, sig):
                    diffs.append("reference rejects the target's signature")
            return diffs

        start = time.perf_counter()
        diffs = await asyncio.to_thread(compare)
        out.record(reference_s=time.perf_counter() - start)
        out.expect(not diffs, "agrees with the py_ecc reference", "; ".join(diffs))
