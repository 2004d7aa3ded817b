"""properties: threshold enforcement over random federations and single-byte tampering of an
approval, as Hypothesis properties seeded by the run seed."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from ..base import Outcome, harness_test
from .kit import NOW, GovernanceHarnessBase


class PropertyTests(GovernanceHarnessBase):
    @harness_test("properties", timeout_s=240)
    async def test_property_threshold_enforcement(self, out: Outcome) -> None:
        """Accepted iff the signers are distinct members and at least t of them (random N, t, sets)."""
        pool, outsiders = self.pool[:8], self.pool[8:]

        @st.composite
        def scenario(draw: Any) -> tuple[int, int, list[int], int]:
            n = draw(st.integers(1, len(pool)))
            t = draw(st.integers(1, n))
            order = draw(st.permutations(list(range(n))))
            return n, t, order, draw(st.integers(0, len(outsiders) - 1))

        def check(case: tuple[int, int, list[int], int]) -> None:
            """Around the boundary (t-1, t, t+1 members), plus a duplicate or an outsider."""
            n, t, order, out_idx = case
            ledger = self._fresh_ledger(n, t)
            p = self._proposal(ledger, nonce=1, pid="prop")
            for k in range(max(t - 1, 1), min(t + 1, n) + 1):
                base = [pool[i] for i in order[:k]]
                for extra, chosen in (
                    ("none", base),
                    ("duplicate", [*base, base[-1]]),
                    ("outsider", [*base, outsiders[out_idx]]),
                ):
                    accepted = not self.rejected(
                        ledger.verify_approval, self._craft(ledger, p, chosen), NOW
                    )[0]
                    expected = extra == "none" and k >= t
                    assert accepted == expected, (
                        f"N={n} t={t} {k} distinct members + {extra}: accepted={accepted}"
                    )

        await self._property(
            out, "threshold enforcement over random federations", scenario(), check
        )

    @harness_test("properties", timeout_s=240)
    async def test_property_single_byte_tampering(self, out: Outcome) -> None:
        """Flipping any one byte of the signature, payload, id or a signer key breaks verification."""
        ledger = self._ledger()
        t = ledger.federation.threshold
        approval = self._craft(
            ledger, self._proposal(ledger, payload=bytes(range(48))), self.pool[:t]
        )
        ledger.verify_approval(approval, NOW)
        fields = ("signature", "payload", "id", "signer")

        def tampered(field: str, pos: int, mask: int) -> Any:
            p = approval.proposal
            if field == "signature":
                sig = bytearray(approval.signature)
                sig[pos % len(sig)] ^= mask
                return dataclasses.replace(approval, signature=bytes(sig))
            if field == "payload":
                pl = bytearray(p.payload)
                pl[pos % len(pl)] ^= mask
                return dataclasses.replace(
                    approval, proposal=dataclasses.replace(p, payload=bytes(pl))
                )
            if field == "id":
                raw = bytearray(p.id.encode())
                raw[pos % len(raw)] = (
                    ord("a") + (raw[pos % len(raw)] - ord("a") + 1 + mask % 25) % 26
                )
                return dataclasses.replace(
                    approval, proposal=dataclasses.replace(p, id=raw.decode())
                )
            signers = [bytearray(s) for s in approval.signers]
            k = pos % len(signers)
            signers[k][(pos // len(signers)) % 48] ^= mask
            return dataclasses.replace(approval, signers=tuple(bytes(s) for s in signers))

        def tamper(case: tuple[str, int, int]) -> None:
            field, pos, mask = case
            built, bad = self.attempt(tampered, field, pos, mask)
            if not built:
                return  # the target refuses to even build it (e.g. an invalid id): not accepted
            refused, _ = self.rejected(ledger.verify_approval, bad, NOW)
            assert refused, f"tampered {field} at {pos} (xor {mask:#x}) still verifies"

        strategy = st.tuples(st.sampled_from(fields), st.integers(0, 2**16), st.integers(1, 255))
        await self._property(out, "any single-byte tampering fails verification", strategy, tamper)
