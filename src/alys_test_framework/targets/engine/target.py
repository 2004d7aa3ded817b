"""An Engine API endpoint for one harness session: a fresh embedded one, or the configured one.

The embedded endpoint is started per session, so its chain is fresh (``fresh_chain``); an
external endpoint is shared by every session, so the harness isolates its tests on branches
it builds itself.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alys_node.engine import ForkSchedule as NodeForkSchedule
from alys_node.engine.client import EngineClient
from alys_node.engine.jwt_auth import load_secret
from alys_node.engine.server import EmbeddedExecutionEndpoint

from ...oracles.engine.forks import ForkSchedule
from .adapters import ConsensusTypes, EngineCodec

EndpointFactory = Callable[..., EmbeddedExecutionEndpoint]


@dataclass
class EngineSession:
    """One live endpoint: URL, secret, schedule and a JSON-RPC client closed with the session.

    ``client.request(method, params)`` returns the whole JSON-RPC response object;
    ``client.post(body, token=...)`` sends a raw body with a chosen bearer token.
    """

    url: str
    secret: bytes
    schedule: ForkSchedule
    client: EngineClient
    fresh_chain: bool
    reorg_depths: Callable[[], list[int]] | None = None


@dataclass
class EngineTarget:
    codec: EngineCodec = field(default_factory=EngineCodec)
    types: ConsensusTypes = field(default_factory=ConsensusTypes)
    engine_url: str | None = None
    jwt_secret_file: Path | None = None
    endpoint_factory: EndpointFactory = EmbeddedExecutionEndpoint
    preset: str = "mainnet"
    name: str = "embedded"

    @classmethod
    def from_config(cls, lighthouse_cfg: Any) -> EngineTarget:
        return cls(
            engine_url=lighthouse_cfg.engine_url,
            jwt_secret_file=lighthouse_cfg.jwt_secret_file,
            preset=lighthouse_cfg.preset,
            name="external" if lighthouse_cfg.engine_url else "embedded",
        )

    @property
    def external(self) -> bool:
        return self.engine_url is not None

    @asynccontextmanager
    async def session(self, schedule: ForkSchedule) -> AsyncIterator[EngineSession]:
        """A fresh embedded endpoint (fresh chain) or the configured external one."""
        if self.engine_url is not None:
            if self.jwt_secret_file is None:
                raise ValueError("lighthouse.engine_url needs lighthouse.jwt_secret_file")
            secret = load_secret(self.jwt_secret_file)
            client = EngineClient(self.engine_url, secret)
            try:
                yield EngineSession(self.engine_url, secret, schedule, client, fresh_chain=False)
            finally:
                await client.close()
            return
        secret = secrets.token_bytes(32)
        node_schedule = NodeForkSchedule(
            schedule.capella_time, schedule.deneb_time, schedule.genesis_time
        )
        endpoint = self.endpoint_factory(secret, node_schedule, preset=self.preset)
        await endpoint.start()
        client = EngineClient(endpoint.url, secret)

        def depths() -> list[int]:
            return [int(r["depth"]) for r in endpoint.state.reorgs]

        try:
            yield EngineSession(endpoint.url, secret, schedule, client, True, depths)
        finally:
            await client.close()
            await endpoint.stop()
