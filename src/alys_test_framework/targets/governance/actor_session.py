"""The reference node's GovernanceActor on a real alys_actors ActorSystem, as an ActorSession."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from alys_actors import ActorSystem
from alys_node.governance.actor import (
    Execute,
    GovernanceState,
    Propose,
    Sign,
    Status,
    start_governance,
)

from .protocol import ActorSession, Ledger, Reply

ASK_TIMEOUT_S = 10.0


class _NodeActorSession:
    def __init__(self, ref: Any) -> None:
        self._ref = ref

    async def _ask(self, message: object) -> Reply:
        r = await self._ref.ask(message, timeout=ASK_TIMEOUT_S)
        return Reply(r.ok, r.value, r.reason, r.detail)

    async def propose(self, pid: str, nonce: int, payload: bytes, expiry: int) -> Reply:
        return await self._ask(Propose(pid, nonce, payload=payload, expiry=expiry))

    async def sign(self, pid: str, member: bytes, signature: bytes) -> Reply:
        return await self._ask(Sign(pid, member, signature))

    async def execute(self, pid: str) -> Reply:
        return await self._ask(Execute(pid))

    async def status(self, pid: str) -> Reply:
        return await self._ask(Status(pid))

    @property
    def failures(self) -> int:
        return int(self._ref.stats.failures)

    @property
    def processed(self) -> int:
        return int(self._ref.stats.processed)


@asynccontextmanager
async def node_actor_session(
    ledger: Ledger, clock: Callable[[], int], seed: int
) -> AsyncIterator[ActorSession]:
    async with ActorSystem("governance-harness", seed=seed) as system:
        state = GovernanceState(ledger, None, clock)  # type: ignore[arg-type]  # any Ledger
        yield _NodeActorSession(await start_governance(system, state))
