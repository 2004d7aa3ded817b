"""The narrow interface through which the governance harness reaches its system under test.

The harness never imports the federation logic or the BLS wrapper directly: it asks a target for
its crypto suite, a federation and a ledger. The default target is the real ``alys_node``
implementation; a broken target in the test suite overrides one rule (the threshold, what is
signed, a verifier check, expiry) and the harness must name the property that breaks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from alys_node.crypto import bls
from alys_node.governance import Federation, GovernanceLedger


@runtime_checkable
class CryptoSuite(Protocol):
    """The BLS operations, bytes in and out (see alys_node.crypto.bls for the contract)."""

    def key_gen(self, ikm: bytes, key_info: bytes = b"") -> bytes: ...
    def sk_to_pk(self, sk: bytes) -> bytes: ...
    def sign(self, sk: bytes, message: bytes) -> bytes: ...
    def verify(self, pk: Any, message: bytes, signature: bytes) -> bool: ...
    def aggregate(self, signatures: Sequence[bytes]) -> bytes: ...
    def aggregate_pubkeys(self, pubkeys: Sequence[Any]) -> bytes: ...
    def aggregate_verify(self, pks: Sequence[Any], msgs: Sequence[bytes], sig: bytes) -> bool: ...
    def fast_aggregate_verify(self, pks: Sequence[Any], message: bytes, sig: bytes) -> bool: ...
    def pop_prove(self, sk: bytes) -> bytes: ...
    def pop_verify(self, pk: Any, proof: bytes) -> bool: ...


@runtime_checkable
class GovernanceTarget(Protocol):
    name: str
    crypto: CryptoSuite

    def new_federation(
        self, members: Sequence[tuple[bytes, bytes]], threshold: int, *, federation_id: str = "alys"
    ) -> Federation: ...

    def new_ledger(self, federation: Federation) -> GovernanceLedger: ...

    async def spawn_actor(
        self, system: Any, ledger: GovernanceLedger, clock: Callable[[], int]
    ) -> Any: ...


class _ModuleSuite:
    """Adapts the ``bls`` module to the CryptoSuite protocol (subclass to break one call)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(bls, name)


class NodeGovernanceTarget:
    """The real alys_node federation, ledger and BLS module."""

    name = "alys_node"

    def __init__(self, crypto: CryptoSuite | None = None) -> None:
        self.crypto: CryptoSuite = crypto if crypto is not None else _ModuleSuite()  # type: ignore[assignment]

    def new_federation(
        self, members: Sequence[tuple[bytes, bytes]], threshold: int, *, federation_id: str = "alys"
    ) -> Federation:
        return Federation.create(
            members, threshold, federation_id=federation_id, crypto=self.crypto
        )

    def new_ledger(self, federation: Federation) -> GovernanceLedger:
        return self.ledger_class(federation, crypto=self.crypto)

    ledger_class: type[GovernanceLedger] = GovernanceLedger

    async def spawn_actor(
        self, system: Any, ledger: GovernanceLedger, clock: Callable[[], int]
    ) -> Any:
        """The node's GovernanceActor on ``system`` (an alys_actors.ActorSystem)."""
        from alys_node.governance.actor import GovernanceState, start_governance

        return await start_governance(system, GovernanceState(ledger, None, clock))


# -- helpers the harness uses to drive any target ------------------------------------------
@dataclass(frozen=True)
class Signer:
    sk: bytes
    pk: bytes
    pop: bytes


def make_signers(crypto: CryptoSuite, n: int, rng: random.Random) -> list[Signer]:
    """n fresh members with seeded keys (the IKM comes from ``rng``, so runs replay)."""
    out = []
    for _ in range(n):
        sk = crypto.key_gen(rng.randbytes(32))
        out.append(Signer(sk, crypto.sk_to_pk(sk), crypto.pop_prove(sk)))
    return out
