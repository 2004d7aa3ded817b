"""The system under test for the Lighthouse harness, behind a narrow interface.

Three replaceable parts: the Engine API JSON codec, the consensus SSZ types, and an Engine API
endpoint (URL + JWT secret). By default the endpoint is the embedded execution layer started
per session; ``TestConfig.lighthouse.engine_url`` / ``jwt_secret_file`` point at an external one.
Broken targets in the test suite subclass one part each.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alys_node import consensus
from alys_node.engine import codec as _codec
from alys_node.engine.client import EngineClient
from alys_node.engine.jwt_auth import load_secret
from alys_node.engine.server import EmbeddedExecutionEndpoint
from alys_node.engine.state import ForkSchedule

GENESIS_TIME = 1_700_000_000
SLOT_S = 12


class EngineCodec:
    """Engine API JSON <-> Python values (see alys_node.engine.codec)."""

    def decode_params(self, method: str, params: Any) -> list[Any]:
        return _codec.decode_params(method, params)

    def encode_params(self, method: str, values: list[Any]) -> list[Any]:
        return _codec.encode_params(method, values)

    def decode_result(self, method: str, result: Any) -> Any:
        return _codec.decode_result(method, result)

    def encode_result(self, method: str, value: Any) -> Any:
        return _codec.encode_result(method, value)

    def decode_object(self, shape: str, value: Any) -> dict[str, Any]:
        return _codec.decode_object(shape, value)

    def encode_object(self, shape: str, value: dict[str, Any]) -> dict[str, Any]:
        return _codec.encode_object(shape, value)


class ConsensusTypes:
    """SSZ types by (fork, name) and their conversions (see alys_node.consensus)."""

    def get_type(self, fork: str, name: str, preset: str = "mainnet") -> type:
        return consensus.get_type(fork, name, preset)

    def from_obj(self, fork: str, name: str, obj: Any, preset: str = "mainnet") -> Any:
        return consensus.from_obj_typed(self.get_type(fork, name, preset), obj)

    def to_obj(self, view: Any) -> Any:
        return consensus.to_obj(view)

    def serialize(self, view: Any) -> bytes:
        return consensus.serialize(view)

    def deserialize(self, fork: str, name: str, data: bytes, preset: str = "mainnet") -> Any:
        return self.get_type(fork, name, preset).decode_bytes(data)

    def hash_tree_root(self, view: Any) -> bytes:
        return consensus.hash_tree_root(view)

    def payload_to_header(self, payload: Any) -> Any:
        return consensus.payload_to_header(payload)

    def convert_fork(self, view: Any, to_fork: str) -> Any:
        return consensus.convert_fork(view, to_fork)


EndpointFactory = Callable[..., EmbeddedExecutionEndpoint]


@dataclass
class EngineSession:
    """One live endpoint: its URL, secret, schedule and a client (closed with the session)."""

    url: str
    secret: bytes
    schedule: ForkSchedule
    client: EngineClient
    embedded: EmbeddedExecutionEndpoint | None = None


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

    @staticmethod
    def schedule_for(capella_block: int, deneb_block: int) -> ForkSchedule:
        """Fork activation by block index: block i has timestamp GENESIS_TIME + i * SLOT_S."""
        return ForkSchedule(
            capella_time=GENESIS_TIME + capella_block * SLOT_S,
            deneb_time=GENESIS_TIME + max(deneb_block, capella_block) * SLOT_S,
            genesis_time=GENESIS_TIME,
        )

    @asynccontextmanager
    async def session(self, schedule: ForkSchedule) -> AsyncIterator[EngineSession]:
        """A fresh embedded endpoint (fresh chain) or the configured external one."""
        if self.external:
            if self.jwt_secret_file is None:
                raise ValueError("lighthouse.engine_url needs lighthouse.jwt_secret_file")
            secret = load_secret(self.jwt_secret_file)
            client = EngineClient(self.engine_url or "", secret)
            try:
                yield EngineSession(self.engine_url or "", secret, schedule, client)
            finally:
                await client.close()
            return
        secret = secrets.token_bytes(32)
        endpoint = self.endpoint_factory(secret, schedule, preset=self.preset)
        await endpoint.start()
        client = EngineClient(endpoint.url, secret)
        try:
            yield EngineSession(endpoint.url, secret, schedule, client, endpoint)
        finally:
            await client.close()
            await endpoint.stop()
