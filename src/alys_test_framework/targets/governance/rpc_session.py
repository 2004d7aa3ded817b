"""gov_* JSON-RPC on a real alys-node process whose federation is its chain spec's authorities.

(A node implementation without gov_* is a different target adapter, not this one.)

The session starts one follower node on loopback from a fresh spec and always stops it; the
node's workdir is removed only when the session ends without an exception (kept for the logs).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alys_node.chain.spec import AuthorityKey

from ...events import EventSink
from ..cluster import NodeCluster, RpcError, RpcUnavailable
from ..cluster.fixture import ChainFixture, NodeTarget
from .protocol import RpcSession


class _NodeRpcSession:
    def __init__(self, cluster: NodeCluster, keys: list[tuple[bytes, bytes]]) -> None:
        self._cluster = cluster
        self._keys = keys

    @property
    def name(self) -> str:
        return str(self._cluster.nodes[0].name)

    @property
    def authority_keys(self) -> list[tuple[bytes, bytes]]:
        return list(self._keys)

    async def call(self, method: str, *params: Any) -> Any:
        # gov_* are the reference node's own methods (alys_node.governance.actor), called as
        # they are: the cluster profiles map only the chain vocabulary the cluster harnesses use
        rpc = self._cluster.nodes[0].rpc
        if rpc is None:
            raise RpcUnavailable(f"{self.name}: not running")
        return await rpc.call(method, *params)

    async def error_of(self, method: str, *params: Any) -> str:
        try:
            await self.call(method, *params)
        except RpcError as exc:
            return f"{exc.code} {exc.rpc_message}"
        return "accepted"

    async def restart(self, *, kill: bool) -> None:
        await self._cluster.restart(0, kill=kill)


@asynccontextmanager
async def node_rpc_session(
    workdir: Path, events: EventSink, *, authorities: int, seed: int, command: Sequence[str]
) -> AsyncIterator[RpcSession]:
    root = Path(workdir) / "governance-node"
    fixture = ChainFixture(
        NodeTarget.parse(list(command), list(command)),
        root,
        events,
        authorities=authorities,
        chain_id="alys-gov",
    )
    await fixture.init_spec()
    keys = [AuthorityKey.load(fixture.key_file(i)) for i in range(authorities)]
    cluster = fixture.new_cluster("governance", seed=seed)
    try:
        await cluster.add_node(fixture.follower_args(bug=False))
        yield _NodeRpcSession(cluster, [(k.secret_key, k.public_key) for k in keys])
    finally:
        await cluster.close()
    shutil.rmtree(root, ignore_errors=True)
