"""Shared state and helpers of the governance harness: the signer pool, ledgers, proposals,
crafted approvals and the property runner.

Members sign with the framework's oracle (their own wallets), not with the target's suite: the
target's BLS code is what is being judged, so it only ever verifies, aggregates or answers the
calls a test aims at it. Logical time: NOW is passed to the pure ledger, so no verdict depends on
the wall clock; timings are only metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis.strategies import SearchStrategy

from ....oracles import bls
from ....results import TestResult
from ....targets.governance import (
    DoubleSignEvidenceView,
    GovernanceTarget,
    Ledger,
    Signer,
    load_target,
    make_signers,
)
from ...base import BaseHarness, HarnessContext, Outcome
from .properties import PropertyRun, report_property, run_property, slug

NOW = 1_700_000_000_000  # logical clock origin (ms)
TTL = 60_000
OUTSIDERS = 3  # pool members that never join a federation
PHASE = "governance-integration"


class GovernanceHarnessBase(BaseHarness):
    """Helpers every governance test group uses; the test groups are mixins on top of it."""

    def __init__(self, ctx: HarnessContext, target: GovernanceTarget | None = None) -> None:
        super().__init__(ctx)
        self.target: GovernanceTarget = target if target is not None else load_target()
        self.gov = ctx.config.governance
        self.pool: list[Signer] = []
        self._nonce = 0
        self._federations: dict[tuple[int, int, str], Any] = {}
        self._current_test = ""

    # -- lifecycle ---------------------------------------------------------------------
    async def health_check(self) -> bool:
        crypto = self.target.crypto
        sk = crypto.key_gen(bytes(range(32)))
        return bool(crypto.verify(crypto.sk_to_pk(sk), b"health", crypto.sign(sk, b"health")))

    async def initialize(self) -> None:
        size = max(self.gov.federation_size, 8) + OUTSIDERS
        self.pool = await asyncio.to_thread(make_signers, bls, size, self.ctx.rng("gov-pool"))
        self.ctx.events.emit("federation_keys_generated", self.name, members=size)

    # -- driving the target -------------------------------------------------------------
    def rejected(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, str]:
        """(did the target refuse, its reason). Only validation errors count as refusals."""
        reason = self.target.refusal(lambda: fn(*args))
        return (reason is not None), (reason if reason is not None else "accepted")

    def attempt(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """(accepted, the call's value) — or (False, the refusal reason) if the target refused."""
        box: list[Any] = []
        reason = self.target.refusal(lambda: box.append(fn(*args, **kwargs)))
        return (True, box[0]) if reason is None else (False, reason)

    def _ledger(
        self, n: int | None = None, t: int | None = None, signers: Sequence[Signer] | None = None
    ) -> Ledger:
        members = (
            list(signers) if signers is not None else self.pool[: n or self.gov.federation_size]
        )
        fed = self.target.new_federation([(s.pk, s.pop) for s in members], t or self.gov.threshold)
        return self.target.new_ledger(fed)

    def _fresh_ledger(self, n: int, t: int, federation_id: str = "alys") -> Ledger:
        """A new ledger on the pool's first n members; the federation value is built once."""
        key = (n, t, federation_id)
        if key not in self._federations:  # immutable values; building one verifies n PoPs
            members = [(s.pk, s.pop) for s in self.pool[:n]]
            self._federations[key] = self.target.new_federation(
                members, t, federation_id=federation_id
            )
        return self.target.new_ledger(self._federations[key])

    def _proposal(self, ledger: Ledger, *, kind: str = "generic", payload: bytes = b"param=1",
                  expiry: int = NOW + TTL, nonce: int | None = None, pid: str | None = None) -> Any:  # fmt: skip
        if nonce is None:
            self._nonce += 1
            nonce = self._nonce
        return self.target.proposal(
            ledger.federation, pid=pid or f"p{nonce}", kind=kind, payload=payload, nonce=nonce,
            expiry=expiry,
        )  # fmt: skip

    def _sig(self, ledger: Ledger, proposal: Any, signer: Signer) -> bytes:
        """The member's signature over what the target says members sign for ``proposal``."""
        return bls.sign(signer.sk, ledger.message_for(proposal))

    def _collect(
        self, ledger: Ledger, proposal: Any, signers: Sequence[Signer], now: int = NOW
    ) -> Any:
        ledger.propose(proposal, now)
        for s in signers:
            ledger.sign(proposal.id, s.pk, self._sig(ledger, proposal, s), now)
        return ledger.aggregate(proposal.id)

    def _craft(self, ledger: Ledger, proposal: Any, signers: Sequence[Signer]) -> Any:
        """An approval built by hand (as a relayer could), bypassing the ledger's sign()."""
        sigs = [self._sig(ledger, proposal, s) for s in signers]
        return self.target.approval(proposal, [s.pk for s in signers], bls.aggregate(sigs))

    def _next_nonce(self) -> int:
        self._nonce += 1
        return self._nonce

    async def run_one(self, name: str, category: str, timeout_s: float | None = None) -> TestResult:
        self._current_test = name  # a failing property's replay command names its test
        return await super().run_one(name, category, timeout_s)

    async def _property(
        self,
        out: Outcome,
        prop: str,
        strategy: SearchStrategy[Any],
        check: Callable[[Any], None],
        examples: int | None = None,
    ) -> PropertyRun:
        """Run a property in a worker thread; a violation names ``prop``, the shrunk case and
        the command replaying it (the cases do not depend on the preset, so it names none)."""
        run = await asyncio.to_thread(  # to_thread carries an active --reproduce token along
            run_property,
            strategy,
            check,
            examples=examples or self.gov.property_examples,
            run_seed=self.ctx.seed,
            name=slug(prop),
        )
        report_property(out, run, prop, phase=PHASE, test=self._current_test, seed=self.ctx.seed)
        return run


def evidence_holds(evidence: DoubleSignEvidenceView) -> bool:
    """Double-sign evidence is proof only if the oracle verifies both signatures on two digests."""
    (_, d1, s1), (_, d2, s2) = evidence.first, evidence.second
    return d1 != d2 and bls.verify(evidence.member, d1, s1) and bls.verify(evidence.member, d2, s2)


def verifier_answer(fn: Callable[..., Any], *args: Any) -> bool | str:
    """A verifier's answer, or the name of the exception it raised (the contract: never raise)."""
    try:
        return bool(fn(*args))
    except Exception as exc:
        return type(exc).__name__


def raises_value_error(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        fn(*args)
    except ValueError:
        return True
    return False
