"""Byzantine faults: attackers that speak the wire protocol perfectly (the catalogue's
``ByzantinePeer``) connect to the target from their own loopback addresses and send it forged
or conflicting blocks, or flood it with identities. Effects come from the target's RPC: the
bad block is not in its chain, the attacker is banned, the peer count stays within its limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ...oracles.chain import OBlock, OracleSpec
from ...targets.cluster.byzantine_catalogue import (
    BLOCK_SPOILS,
    ByzantinePeer,
    Forge,
    equivocation,
    fresh_branch,
    keys_from_files,
    new_block_payload,
)
from ...waiting import WaitTimeout, wait_until
from .base import Effect, Mechanism, head


class _Attack(Mechanism):
    name = "byzantine-peer"
    spoil = "B1-outsider"

    async def _setup(self) -> tuple[OracleSpec, Forge, OBlock]:
        spec = OracleSpec.load(self.ctx.spec_file)
        forge = Forge(spec, keys_from_files([str(p) for p in self.ctx.key_files]))
        node = self.ctx.cluster.nodes[self.target]
        h = await node.call("chain_head", timeout_s=3)
        anchor = OBlock.from_json(await node.call("chain_getBlockByHeight", int(h["height"])))
        forge.parent = anchor
        return spec, forge, anchor

    async def _connect(self, spec: OracleSpec, anchor: OBlock) -> ByzantinePeer:
        node = self.ctx.cluster.nodes[self.target]
        peer = ByzantinePeer(spec, anchor)
        await peer.connect("127.0.0.1", node.p2p_port, head_height=anchor.height)
        with contextlib.suppress(WaitTimeout):
            await wait_until(lambda: peer.hello_received or peer.closed_by_victim, 5,
                             "attacker handshake", poll_s=0.02)  # fmt: skip
        return peer

    async def start(self) -> None:
        # production holds while the attack lands: a block for a height the victim has passed
        # meanwhile is ignored unjudged, which would test nothing
        self.ctx.production.clear()
        try:
            await self._quiet()
            spec, forge, anchor = await self._setup()
            self.peer = await self._connect(spec, anchor)
            self.bad = self._blocks(spec, forge, anchor)
            for b in self.bad:
                self.peer.send(new_block_payload(b.encode()))
            # bans expire (the run uses short bans so honest links recover): look while it holds
            self.banned_seen = False
            with contextlib.suppress(WaitTimeout):
                self.banned_seen = await wait_until(self._banned, 3, "attacker banned",
                                                    poll_s=0.05)  # fmt: skip
        finally:
            self.ctx.production.set()

    async def _quiet(self) -> None:
        """Until the victim holds the producer's head (bounded; production is on hold)."""

        async def same() -> bool:
            a = await head(self.ctx, self.ctx.producer)
            return a is not None and a == await head(self.ctx, self.target)

        with contextlib.suppress(WaitTimeout):
            await wait_until(same, 5, "victim at the producer's head", poll_s=0.05)

    def _blocks(self, spec: OracleSpec, forge: Forge, anchor: OBlock) -> list[OBlock]:
        honest = fresh_branch(anchor, 1, forge)[0]
        return [BLOCK_SPOILS[self.spoil][1](honest, forge)]

    async def _in_chain(self) -> list[str]:
        node = self.ctx.cluster.nodes[self.target]
        out = []
        for b in self.bad:
            with contextlib.suppress(Exception):
                got = await node.call("chain_getBlockByHeight", b.height, timeout_s=3)
                if got and got.get("hash") == "0x" + b.hash.hex():
                    out.append(got["hash"])
        return out

    async def _banned(self) -> bool:
        node = self.ctx.cluster.nodes[self.target]
        try:
            bans = await node.call("admin_bans", timeout_s=3)
        except Exception:  # noqa: BLE001
            return False
        return any(str(b.get("addr", "")).startswith(self.peer.source_ip) for b in bans)

    async def measure(self) -> Effect:
        banned, in_chain = self.banned_seen or await self._banned(), await self._in_chain()
        return Effect(banned and not in_chain,
                      f"{self.spoil} block {'accepted' if in_chain else 'refused'}; attacker "
                      f"{self.peer.source_ip} {'banned' if banned else 'not banned'}",
                      {"rule": self.spoil.split("-")[0], "banned": banned, "in_chain": in_chain,
                       "bad_hashes": ["0x" + b.hash.hex() for b in self.bad]})  # fmt: skip

    async def stop(self) -> None:
        if hasattr(self, "peer"):
            await self.peer.close()


class MaliciousActorFault(_Attack):
    """An outsider gossips a block validly signed by a key that is no authority (B1)."""

    spoil = "B1-outsider"


class DataCorruptionAttackFault(_Attack):
    """A block whose body does not match its header's tx_root (B5): corrupted data, signed."""

    spoil = "B5"


class ConsensusAttackFault(_Attack):
    """Equivocation: the slot's owner signs two different blocks for one slot (F1 keeps the
    first; neither may break a chain rule); judged also by the run's checkers."""

    spoil = "F1-equivocation"

    def _blocks(self, spec: OracleSpec, forge: Forge, anchor: OBlock) -> list[OBlock]:
        return list(equivocation(anchor, spec, forge))

    async def measure(self) -> Effect:
        in_chain = await self._in_chain()
        closed = self.peer.closed_by_victim
        return Effect(len(in_chain) <= 1,
                      f"{len(in_chain)} of 2 equivocating blocks in node-{self.target}'s chain "
                      f"(at most one allowed); attacker connection "
                      f"{'closed' if closed else 'open'}",
                      {"rule": "F1", "in_chain": in_chain, "closed": closed,
                       "bad_hashes": ["0x" + b.hash.hex() for b in self.bad]})  # fmt: skip


class SybilAttackFault(_Attack):
    """Many identities from one host (distinct loopback addresses, fresh node ids) connect to
    the target at once; the target must keep its peer limit (P4) and its honest peers."""

    async def start(self) -> None:
        spec, _, anchor = await self._setup()
        self.bad = []
        n = int(self.params["identities"])
        results = await asyncio.gather(*(self._one(spec, anchor) for _ in range(n)),
                                       return_exceptions=True)  # fmt: skip
        self.peers = [p for p in results if isinstance(p, ByzantinePeer)]

    async def _one(self, spec: OracleSpec, anchor: OBlock) -> ByzantinePeer:
        node = self.ctx.cluster.nodes[self.target]
        peer = ByzantinePeer(spec, anchor)
        await peer.connect("127.0.0.1", node.p2p_port, head_height=anchor.height)
        return peer

    async def measure(self) -> Effect:
        node = self.ctx.cluster.nodes[self.target]
        await asyncio.sleep(0)  # let the victim answer the handshakes it accepted
        with contextlib.suppress(WaitTimeout):
            await wait_until(lambda: all(p.hello_received or p.closed_by_victim
                                         for p in self.peers), 5, "sybil handshakes")  # fmt: skip
        peers: Any = await node.call("admin_peers", timeout_s=3)
        sybil_ips = {p.source_ip for p in self.peers}
        sybils = [p for p in peers if str(p.get("addr", "")).split(":")[0] in sybil_ips]
        limit = 25
        return Effect(len(peers) <= limit,
                      f"{len(self.peers)} identities dialled, {len(sybils)} admitted; "
                      f"node-{self.target} holds {len(peers)} peers (limit {limit})",
                      {"rule": "P4", "identities": len(self.peers), "admitted": len(sybils),
                       "peers": len(peers), "max_peers": limit})  # fmt: skip

    async def stop(self) -> None:
        await asyncio.gather(*(p.close() for p in getattr(self, "peers", [])),
                             return_exceptions=True)  # fmt: skip
