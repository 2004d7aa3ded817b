"""EngineActor: drives the execution layer for every block the node produces.

For each produced block it runs forkchoiceUpdated(attributes) -> getPayload -> newPayload ->
forkchoiceUpdated(head) against the Engine API, so the execution chain follows the consensus
chain one payload per block. The node wires it with ``attach(node)`` (OPTIONAL_ACTORS) and the
chain actor sends ``ExecuteBlock`` after each commit (``tell`` / ``ask`` the "engine" actor).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alys_actors import Actor, MailboxConfig, OverflowPolicy, handler

from .client import EngineClient, EngineRpcError
from .driver import EngineDriver
from .jwt_auth import write_secret
from .server import EmbeddedExecutionEndpoint
from .state import ForkSchedule

ACTOR_NAME = "engine"
# The chain must never wait on the execution layer: under a burst (dev-mode block production is
# faster than four HTTP round trips per block) the oldest pending blocks are dropped, counted in
# engine_status, and the execution chain continues from its own head.
MAILBOX = MailboxConfig(capacity=10_000, policy=OverflowPolicy.DROP_OLDEST)


@dataclass(frozen=True)
class ExecuteBlock:
    """A consensus block was produced/committed: build and import its execution payload."""

    height: int
    block_hash: bytes
    timestamp_ms: int


@dataclass(frozen=True)
class GetEngineStatus:
    pass


@dataclass
class EngineTracker:
    """State that must survive actor restarts (a restart builds a fresh EngineActor)."""

    head: str
    last_timestamp: int = 0
    executed: int = 0
    failures: int = 0
    last_status: str = ""
    by_height: dict[int, str] = field(default_factory=dict)
    max_remembered: int = 4096


class EngineActor(Actor):
    def __init__(
        self,
        client: EngineClient,
        schedule: ForkSchedule,
        tracker: EngineTracker,
        endpoint: EmbeddedExecutionEndpoint | None = None,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.endpoint = endpoint
        self.driver = EngineDriver(client, schedule)

    async def pre_restart(self, error: BaseException) -> None:
        """Keep the endpoint and client: a restart replaces the handler state, not the EL."""

    async def post_restart(self, error: BaseException) -> None:
        return None

    async def on_stop(self) -> None:
        await self.client.close()
        if self.endpoint is not None:
            await self.endpoint.stop()

    @handler(ExecuteBlock)
    async def on_execute(self, m: ExecuteBlock) -> dict[str, Any]:
        t = self.tracker
        ts = max(t.last_timestamp + 1, m.timestamp_ms // 1000)
        digest = m.block_hash.rjust(32, b"\x00")[:32].hex()
        try:
            got = await self.driver.produce(
                t.head, ts, prev_randao="0x" + digest, beacon_root="0x" + digest
            )
        except EngineRpcError as exc:
            t.failures += 1
            t.last_status = f"error {exc.code}"
            raise
        t.last_status = got.status["status"]
        if t.last_status != "VALID":
            t.failures += 1
            raise RuntimeError(f"execution payload for height {m.height}: {got.status}")
        t.head, t.last_timestamp = got.block_hash, ts
        t.executed += 1
        t.by_height[m.height] = got.block_hash
        if len(t.by_height) > t.max_remembered:
            t.by_height.pop(next(iter(t.by_height)))
        return {
            "height": m.height,
            "execution_hash": got.block_hash,
            "execution_parent": got.payload["parentHash"],
            "fork": got.fork,
        }

    @handler(GetEngineStatus)
    async def on_status(self, _m: GetEngineStatus) -> dict[str, Any]:
        t = self.tracker
        return {
            "url": self.client.url,
            "execution_head": t.head,
            "executed": t.executed,
            "failures": t.failures,
            "last_status": t.last_status,
            "latest": dict(list(t.by_height.items())[-1:]),
        }


async def attach(node: Any) -> None:
    """Start the embedded execution endpoint, spawn EngineActor, register ``engine_status``."""
    secret = secrets.token_bytes(32)
    datadir = getattr(node, "datadir", None)
    if datadir is not None:
        write_secret(Path(datadir) / "jwt.hex", secret)
    schedule = ForkSchedule()  # deneb from genesis: the node starts on the newest fork
    endpoint = EmbeddedExecutionEndpoint(secret, schedule)
    await endpoint.start()
    client = EngineClient(endpoint.url, secret)
    tracker = EngineTracker(head="0x" + endpoint.state.genesis_hash.hex())
    try:
        ref = await node.system.spawn(
            lambda: EngineActor(client, schedule, tracker, endpoint),
            name=ACTOR_NAME,
            mailbox=MAILBOX,
        )
    except BaseException:
        await client.close()
        await endpoint.stop()
        raise

    async def engine_status(_params: Any) -> dict[str, Any]:
        status = await ref.ask(GetEngineStatus(), timeout=5.0)
        return {**status, "dropped": ref.stats.dropped}

    node.rpc.register("engine_status", engine_status)
