"""The governance target backed by the reference node: alys_node's federation, ledger and BLS
module, its GovernanceActor on alys_actors, and gov_* JSON-RPC on an alys-node process.

Broken variants in the test suite replace one piece (``ledger_class`` or the crypto suite) and
the harness must name the rule that breaks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alys_node.crypto import bls
from alys_node.governance import (
    Approval,
    Federation,
    GovernanceError,
    GovernanceLedger,
    Proposal,
    ProposalKind,
    encode_add_member,
    encode_remove_member,
    encode_set_threshold,
)

from ...events import EventSink
from .actor_session import node_actor_session
from .protocol import CryptoSuite, GovernanceTarget, Ledger, RpcSession
from .rpc_session import node_rpc_session


class _ModuleSuite:
    """Adapts the ``bls`` module to the CryptoSuite protocol (subclass to break one call)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(bls, name)


class NodeGovernanceTarget:
    """The real alys_node federation, ledger, actor and node process."""

    name = "alys_node"
    ledger_class: type[GovernanceLedger] = GovernanceLedger
    node_command: Sequence[str] | None = None  # None: the config's network.node_command

    def __init__(self, crypto: CryptoSuite | None = None) -> None:
        self.crypto: CryptoSuite = crypto if crypto is not None else _ModuleSuite()

    def refusal(self, call: Callable[[], object]) -> str | None:
        try:
            call()
        except GovernanceError as exc:
            return exc.reason
        except ValueError as exc:
            return f"ValueError: {exc}"
        return None

    def new_federation(
        self, members: Sequence[tuple[bytes, bytes]], threshold: int, *, federation_id: str = "alys"
    ) -> Federation:
        return Federation.create(
            members, threshold, federation_id=federation_id, crypto=self.crypto
        )

    def new_ledger(self, federation: Any) -> Ledger:
        return self.ledger_class(federation, crypto=self.crypto)

    def proposal(
        self, federation: Any, *, pid: str, kind: str, payload: bytes, nonce: int, expiry: int
    ) -> Proposal:
        fed_id = federation.federation_id
        return Proposal(pid, ProposalKind(kind), payload, nonce, expiry, federation.epoch, fed_id)

    def approval(self, proposal: Any, signers: Sequence[bytes], signature: bytes) -> Approval:
        return Approval(proposal, tuple(signers), signature)

    def add_member_payload(self, pubkey: bytes, pop: bytes) -> bytes:
        return encode_add_member(pubkey, pop)

    def remove_member_payload(self, pubkey: bytes) -> bytes:
        return encode_remove_member(pubkey)

    def set_threshold_payload(self, threshold: int) -> bytes:
        return encode_set_threshold(threshold)

    def prepared_keys(self, pubkeys: Sequence[bytes]) -> Sequence[Any]:
        return [bls.PublicKey.from_bytes(pk) for pk in pubkeys]

    def actor_session(self, ledger: Ledger, clock: Callable[[], int], seed: int) -> Any:
        return node_actor_session(ledger, clock, seed)

    @asynccontextmanager
    async def rpc_session(
        self, workdir: Path, events: EventSink, *, authorities: int, seed: int,
        command: Sequence[str],
    ) -> AsyncIterator[RpcSession]:  # fmt: skip
        async with node_rpc_session(
            workdir, events, authorities=authorities, seed=seed,
            command=self.node_command or command,
        ) as session:  # fmt: skip
            yield session


# mypy checks here, once, that the adapter satisfies the harness's protocol
_SATISFIES: type[GovernanceTarget] = NodeGovernanceTarget

__all__ = ["NodeGovernanceTarget"]
