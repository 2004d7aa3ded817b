"""threshold: exactly t distinct member signatures approve, at every boundary and for
signatures collected one by one."""

from __future__ import annotations

from ..base import Outcome, harness_test
from .kit import NOW, GovernanceHarnessBase


class ThresholdTests(GovernanceHarnessBase):
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
                accepted = not self.rejected(
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
                    (k, self.rejected(ledger.verify_approval, ledger.aggregate(p.id), NOW)[0])
                )
        premature = [k for k, refused in results if not refused]
        out.expect(
            not premature, "threshold is enforced", f"approved with only {premature} signatures"
        )
        ledger.execute_collected(p.id, NOW)
        out.expect(p.id in ledger.executed, "t collected signatures execute")
