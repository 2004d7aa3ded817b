"""Shared state and helpers of the governance harness: the signer pool, ledgers, crafted
approvals and a seeded Hypothesis runner. Logical time: NOW is passed to the pure ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from alys_node.governance import (
    Approval,
    GovernanceError,
    Proposal,
    ProposalKind,
)

from ...targets.governance_target import (
    GovernanceTarget,
    NodeGovernanceTarget,
    Signer,
    make_signers,
)
from ..base import BaseHarness, HarnessContext

NOW = 1_700_000_000_000  # logical clock origin (ms)
TTL = 60_000


def rejected(fn: Callable[..., Any], *args: Any) -> tuple[bool, str]:
    """(was it rejected, reason). Only governance/validation errors count as rejections."""
    try:
        fn(*args)
    except GovernanceError as exc:
        return True, exc.reason
    except ValueError as exc:
        return True, f"ValueError: {exc}"
    return False, "accepted"


def raises_value_error(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        fn(*args)
    except ValueError:
        return True
    return False


TORSION_G1 = b"\x80" + bytes(47)  # (0, 2): on the curve, order 3, outside the r-subgroup


def add_torsion(pk: bytes) -> bytes:
    """pk + (0, 2): a second encoding of the same secret's key, outside the r-subgroup.

    A verifier without subgroup checks accepts it for the owner's signatures (the pairing
    ignores the order-3 component), so one member could take two seats.
    """
    from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
    from py_ecc.optimized_bls12_381 import FQ, add

    return G1_to_pubkey(add(pubkey_to_G1(pk), (FQ(0), FQ(2), FQ(1))))


class GovernanceHarnessBase(BaseHarness):
    """Helpers every governance test group uses; the test groups are mixins on top of it."""

    def __init__(self, ctx: HarnessContext, target: GovernanceTarget | None = None) -> None:
        super().__init__(ctx)
        self.target: GovernanceTarget = target if target is not None else NodeGovernanceTarget()
        self.gov = ctx.config.governance
        self.pool: list[Signer] = []
        self._nonce = 0

    # -- lifecycle ---------------------------------------------------------------------
    async def health_check(self) -> bool:
        crypto = self.target.crypto
        sk = crypto.key_gen(bytes(range(32)))
        return bool(crypto.verify(crypto.sk_to_pk(sk), b"health", crypto.sign(sk, b"health")))

    async def initialize(self) -> None:
        size = max(self.gov.federation_size, 8) + 3  # + outsiders
        self.pool = await asyncio.to_thread(
            make_signers, self.target.crypto, size, self.ctx.rng("gov-pool")
        )
        self.ctx.events.emit("federation_keys_generated", self.name, members=size)

    # -- helpers ------------------------------------------------------------------------
    def _ledger(
        self, n: int | None = None, t: int | None = None, signers: Sequence[Signer] | None = None
    ):
        members = (
            list(signers) if signers is not None else self.pool[: n or self.gov.federation_size]
        )
        fed = self.target.new_federation([(s.pk, s.pop) for s in members], t or self.gov.threshold)
        return self.target.new_ledger(fed)

    def _proposal(self, ledger: Any, *, kind: ProposalKind = ProposalKind.GENERIC, payload: bytes = b"param=1",
                  expiry: int = NOW + TTL, nonce: int | None = None, pid: str | None = None) -> Proposal:  # fmt: skip
        if nonce is None:
            self._nonce += 1
            nonce = self._nonce
        fed = ledger.federation
        return Proposal(
            pid or f"p{nonce}", kind, payload, nonce, expiry, fed.epoch, fed.federation_id
        )

    def _sig(self, ledger: Any, proposal: Proposal, signer: Signer) -> bytes:
        return self.target.crypto.sign(signer.sk, ledger.message_for(proposal))

    def _collect(
        self, ledger: Any, proposal: Proposal, signers: Sequence[Signer], now: int = NOW
    ) -> Approval:
        ledger.propose(proposal, now)
        for s in signers:
            ledger.sign(proposal.id, s.pk, self._sig(ledger, proposal, s), now)
        return ledger.aggregate(proposal.id)

    def _craft(self, ledger: Any, proposal: Proposal, signers: Sequence[Signer]) -> Approval:
        """An approval built by hand (as a relayer could), bypassing the ledger's sign()."""
        sigs = [self._sig(ledger, proposal, s) for s in signers]
        return Approval(proposal, tuple(s.pk for s in signers), self.target.crypto.aggregate(sigs))

    def _hypothesis(self, strategy: Any, check: Callable[[Any], None]) -> tuple[str | None, int]:
        """Run ``check`` over ``strategy`` with Hypothesis, seeded by the run seed, no database."""
        from hypothesis import HealthCheck, given, seed, settings

        calls = 0

        @seed(self.ctx.seed)
        @settings(
            max_examples=self.gov.property_examples,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(strategy)
        def prop(case: Any) -> None:
            nonlocal calls
            calls += 1
            check(case)

        try:
            prop()
        except AssertionError as exc:
            return str(exc).splitlines()[0][:300], calls
        return None, calls


def verifier_answer(fn: Callable[..., Any], *args: Any) -> bool | str:
    """A verifier's answer, or the name of the exception it raised (the contract: never raise)."""
    try:
        return bool(fn(*args))
    except Exception as exc:
        return type(exc).__name__
