"""RpcActor: owns the HTTP listener and binds the node's JSON-RPC methods to actor asks.

Every parameter is checked where it is read: integers against the range the node can serve
(``height_param``), addresses as host:ASCII-port (D9). Methods named after the real Alys node's
RPC (``getheadblock``, ``getblockbyheight``, ``getblockbyhash``) answer in its shape, so the
framework's ``alys`` node profile can drive this node (docs/NODE_API.md, "Profiles").
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

from alys_actors import Actor, ActorRef
from alys_node.actors import messages as msg
from alys_node.rpc import RpcError, height_param, invalid_params, param, uint_param

_PORT = re.compile(r"[0-9]{1,5}")
Params = list | dict


def _hex(v: str, n: int, what: str) -> bytes:
    try:
        b = bytes.fromhex(v[2:] if v.startswith("0x") else v)
    except ValueError:
        raise invalid_params(f"{what} is not hex") from None
    if len(b) != n:
        raise invalid_params(f"{what} must be {n} bytes")
    return b


def peer_address(v: str) -> str:
    """host:port with an ASCII port 1..65535 (str.isdigit also accepts Arabic-Indic digits)."""
    host, sep, port = v.rpartition(":")
    if not sep or not host or not _PORT.fullmatch(port) or not 0 < int(port) < 65536:
        raise invalid_params(f"peer address must be host:port, got {v!r}")
    return v


def _alys_block(block: Any, received_at: float) -> dict:
    """A block in the shape of the real Alys node's SignedConsensusBlock JSON: the fields this
    chain has, under the names Alys uses (execution_payload.block_number / block_hash)."""
    j = block.to_json(received_at)
    return {
        "message": {
            "parent_hash": j["parent_hash"],
            "slot": j["timestamp"],
            "execution_payload": {
                "block_number": j["height"],
                "block_hash": j["hash"],
                "parent_hash": j["parent_hash"],
                "timestamp": j["timestamp"],
                "transactions": j["txs"],
            },
        },
        "signature": j["signature"],
    }


def _scalar(params: list | dict | Any) -> list | dict:
    """The real Alys node takes a bare value as params (``"params": 5``); accept both."""
    return params if isinstance(params, list | dict) else [params]


class RpcActor(Actor):
    def __init__(self, node: Any) -> None:  # alys_node.node.Node (untyped: no import cycle)
        self.node = node

    async def on_start(self) -> None:
        n = self.node
        for name in dir(self):
            if name.startswith("m_"):
                n.rpc.register(name[2:], getattr(self, name))
        n.rpc.health = self._health
        n.rpc.metric_aliases = {"chain_block_height": "alys_head_height"}
        # a restarted actor binds the port it had: clients know the node by it
        n.rpc_port = await n.rpc.start(n.host, n.rpc_port or n.rpc_port_arg)

    async def on_stop(self) -> None:
        await self.node.rpc.stop()

    def _r(self, name: str) -> ActorRef:
        """By name, not a stored ref: the root supervisor may have respawned the actor."""
        ref = self.system.registry.lookup(name)
        if ref is None:
            raise RpcError(-32003, f"actor {name!r} is not running")
        return ref

    def _head(self) -> tuple[int, bytes]:
        view = getattr(self.node, "head", None)  # published by the ChainActor when present
        if view is not None and hasattr(view, "value"):
            return view.value.height, view.value.hash
        s = self.node.store
        return s.head_height, s.head_hash

    async def _health(self) -> dict:
        sup = getattr(self.node, "supervisor", None)
        if sup is None:
            return {"ok": True, "state": "running", "actors": {}}
        return sup.health()

    async def m_node_health(self, params: Params) -> dict:
        return await self._health()

    async def m_node_status(self, params: Params) -> dict:
        n = self.node
        height, head_hash = self._head()
        bans = await self._r("network").ask(msg.BanInfo(), timeout=5)
        peers = await self._r("network").ask(msg.PeerInfo(), timeout=5)
        return {
            "height": height,
            "hash": "0x" + head_hash.hex(),
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

    async def m_chain_head(self, params: Params) -> dict:
        height, head_hash = self._head()
        return {"height": height, "hash": "0x" + head_hash.hex()}

    async def _block(self, params: Params, by: str) -> Any:
        if by == "height":
            q = msg.GetBlock(height=height_param(params, 0, "height"))
        else:
            q = msg.GetBlock(hash=_hex(param(params, 0, "hash", str), 32, "hash"))
        return await self._r("storage").ask(q, timeout=10)

    async def m_chain_getBlockByHeight(self, params: Params) -> Any:
        got = await self._block(params, "height")
        return got[0].to_json(got[1]) if got else None

    async def m_chain_getBlockByHash(self, params: Params) -> Any:
        got = await self._block(params, "hash")
        return got[0].to_json(got[1]) if got else None

    # -- the real Alys node's names and shapes (profile "alys") ---------------------------
    async def m_getheadblock(self, params: Params) -> Any:
        got = await self._r("storage").ask(msg.GetBlock(height=self._head()[0]), timeout=10)
        return _alys_block(*got) if got else None

    async def m_getblockbyheight(self, params: Params) -> Any:
        got = await self._block(_scalar(params), "height")
        return _alys_block(*got) if got else None

    async def m_getblockbyhash(self, params: Params) -> Any:
        got = await self._block(_scalar(params), "hash")
        return _alys_block(*got) if got else None

    async def m_chain_getCheckpoints(self, params: Params) -> list[dict]:
        cps = await self._r("storage").ask(msg.GetCheckpoints(), timeout=10)
        return [
            {"height": c.height, "hash": "0x" + c.hash.hex(), "digest": "0x" + c.digest.hex()}
            for c in cps
        ]

    async def m_admin_addPeer(self, params: Params) -> bool:
        a = peer_address(param(params, 0, "addr", str))
        return await self._r("network").ask(msg.AddPeer(a), timeout=5)

    async def m_admin_removePeer(self, params: Params) -> bool:
        who = param(params, 0, "peer", str)
        return await self._r("network").ask(msg.RemovePeer(who), timeout=5)

    async def m_admin_peers(self, params: Params) -> list[dict]:
        return await self._r("network").ask(msg.PeerInfo(), timeout=5)

    async def m_admin_bans(self, params: Params) -> list[dict]:
        return await self._r("network").ask(msg.BanInfo(), timeout=5)

    async def m_dev_produceBlocks(self, params: Params) -> dict:
        n = uint_param(params, 0, "n", 100_000, default=1, minimum=1)
        if not self.node.dev:
            raise RpcError(-32001, "dev_produceBlocks is only available with --dev")
        if self.node.key is None:
            raise RpcError(-32002, "dev_produceBlocks needs --authority-key")
        return await self._r("chain").ask(msg.Produce(n), timeout=600)

    async def m_node_shutdown(self, params: Params) -> bool:
        asyncio.get_running_loop().call_later(0.05, self.node.request_stop)
        return True
