"""aggregation: the target's aggregate and fast_aggregate_verify at federation scale, judged
against the oracle's answers for the same inputs, with timings as metrics."""

from __future__ import annotations

import asyncio
import time

from ...oracles import bls
from ...targets.governance import make_signers
from ..base import Outcome, harness_test
from .kit import GovernanceHarnessBase


class AggregationTests(GovernanceHarnessBase):
    @harness_test("aggregation", timeout_s=120)
    async def test_aggregation_scaling(self, out: Outcome) -> None:
        c = self.target.crypto
        top = self.gov.max_aggregation_signers
        sizes = sorted({min(k, top) for k in (3, 10, 32, 64, 100)} | {top})
        signers = await asyncio.to_thread(make_signers, bls, max(sizes), self.ctx.rng("gov-agg"))
        msg = b"aggregation " + bytes(8)
        sigs = await asyncio.to_thread(lambda: [bls.sign(s.sk, msg) for s in signers])
        keys = self.target.prepared_keys([s.pk for s in signers])
        failures = []
        for k in sizes:
            start = time.perf_counter()
            agg = c.aggregate(sigs[:k])
            agg_ms = (time.perf_counter() - start) * 1e3
            if agg != bls.aggregate(sigs[:k]):
                failures.append(f"{k} signers: aggregate differs from the oracle's")
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
        agg = bls.aggregate([bls.sign(s.sk, m) for s, m in zip(signers, msgs, strict=True)])
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
