"""RpcActor: owns the HTTP listener and binds the node's JSON-RPC methods to actor asks."""

from __future__ import annotations

import asyncio
import os

from alys_actors import Actor
from alys_node.actors import messages as msg
from alys_node.rpc import RpcError, invalid_params, param


def _hex(v: str, n: int, what: str) -> bytes:
    try:
        b = bytes.fromhex(v[2:] if v.startswith("0x") else v)
    except ValueError:
        raise invalid_params(f"{what} is not hex") from None
    if len(b) != n:
        raise invalid_params(f"{what} must be {n} bytes")
    return b


def _addr(v: str) -> str:
    host, sep, port = v.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise invalid_params(f"peer address must be host:port, got {v!r}")
    return v


class RpcActor(Actor):
    def __init__(self, node) -> None:
        self.node = node

    async def on_start(self) -> None:
        n = self.node
        for name in dir(self):
            if name.startswith("m_"):
                n.rpc.register(name[2:], getattr(self, name))
        n.rpc_port = await n.rpc.start(n.host, n.rpc_port_arg)

    async def on_stop(self) -> None:
        await self.node.rpc.stop()

    def _r(self, name: str):
        return self.node.refs[name]

    async def m_node_status(self, params) -> dict:
        n = self.node
        s = n.store
        bans = await self._r("network").ask(msg.BanInfo(), timeout=5)
        peers = await self._r("network").ask(msg.PeerInfo(), timeout=5)
        return {
            "height": s.head_height,
            "hash": "0x" + s.head_hash.hex(),
            "peers": len(peers),
            "syncing": n.syncing,
            "chain_id": n.spec.chain_id,
            "genesis_hash": "0x" + n.genesis_hash.hex(),
            "pid": os.getpid(),
            "p2p_port": n.p2p_port,
            "rpc_port": n.rpc_port,
            "dev": n.dev,
            "banned": [b["addr"] for b in bans],
            "modules": dict(n.modules),
        }

    async def m_chain_head(self, params) -> dict:
        s = self.node.store
        return {"height": s.head_height, "hash": "0x" + s.head_hash.hex()}

    async def m_chain_getBlockByHeight(self, params):
        h = param(params, 0, "height", int)
        if h < 0:
            raise invalid_params("height must be >= 0")
        got = await self._r("storage").ask(msg.GetBlock(height=h), timeout=10)
        return got[0].to_json(got[1]) if got else None

    async def m_chain_getBlockByHash(self, params):
        h = _hex(param(params, 0, "hash", str), 32, "hash")
        got = await self._r("storage").ask(msg.GetBlock(hash=h), timeout=10)
        return got[0].to_json(got[1]) if got else None

    async def m_chain_getCheckpoints(self, params) -> list[dict]:
        cps = await self._r("storage").ask(msg.GetCheckpoints(), timeout=10)
        return [
            {"height": c.height, "hash": "0x" + c.hash.hex(), "digest": "0x" + c.digest.hex()}
            for c in cps
        ]

    async def m_admin_addPeer(self, params) -> bool:
        a = _addr(param(params, 0, "addr", str))
        return await self._r("network").ask(msg.AddPeer(a), timeout=5)

    async def m_admin_removePeer(self, params) -> bool:
        who = param(params, 0, "peer", str)
        return await self._r("network").ask(msg.RemovePeer(who), timeout=5)

    async def m_admin_peers(self, params) -> list[dict]:
        return await self._r("network").ask(msg.PeerInfo(), timeout=5)

    async def m_admin_bans(self, params) -> list[dict]:
        return await self._r("network").ask(msg.BanInfo(), timeout=5)

    async def m_dev_produceBlocks(self, params) -> dict:
        n = param(params, 0, "n", int, 1)
        if not 1 <= n <= 100_000:
            raise invalid_params("n must be between 1 and 100000")
        if not self.node.dev:
            raise RpcError(-32001, "dev_produceBlocks is only available with --dev")
        if self.node.key is None:
            raise RpcError(-32002, "dev_produceBlocks needs --authority-key")
        return await self._r("chain").ask(msg.Produce(n), timeout=600)

    async def m_node_shutdown(self, params) -> bool:
        asyncio.get_running_loop().call_later(0.05, self.node.request_stop)
        return True
