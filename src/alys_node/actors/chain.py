"""ChainActor: owns the canonical head. Every block that becomes part of the chain passes through
its mailbox, so validation-then-commit is serialised and the head never races.

A block is acknowledged (RPC reply, gossip, Status) only after StorageActor made it durable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from alys_actors import Actor, ActorRef, handler
from alys_node.actors import messages as msg
from alys_node.chain.block import Block, Header, make_header
from alys_node.chain.codec import DecodeError
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.chain.validation import InvalidBlock, check_link, check_range
from alys_node.chain.verify import Verifier
from alys_node.p2p.protocol import Penalty

log = logging.getLogger("alys_node.chain")
MAX_REORG = 64


class ChainActor(Actor):
    def __init__(self, node) -> None:  # node: alys_node.node.Node (kept untyped: no cycle)
        self.node = node
        self.spec: ChainSpec = node.spec
        self.key: AuthorityKey | None = node.key
        self.verifier: Verifier = node.verifier
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._aura: asyncio.Task | None = None

    @property
    def head(self) -> tuple[int, bytes, Header]:
        s = self.node.store
        return s.head_height, s.head_hash, s.head_header

    async def on_start(self) -> None:
        if self.key is not None and not self.node.dev:
            self._aura = asyncio.create_task(self._aura_loop())

    async def on_stop(self) -> None:
        if self._aura:
            self._aura.cancel()

    def _ref(self, name: str) -> ActorRef:
        ref = self.system.registry.lookup(name)
        assert ref is not None, name
        return ref

    # -- production -----------------------------------------------------------------------
    def _build(self, parent_h: int, parent_hash: bytes, parent: Header, now_ms: int) -> Block:
        assert self.key is not None
        from alys_node.crypto import bls

        spec = self.spec
        slot = max(spec.slot_of(parent.timestamp) + 1, spec.slot_of(now_ms))
        n = len(spec.authorities)
        slot += (self.key.index - slot) % n
        header = make_header(parent_h + 1, parent_hash, spec.slot_start(slot), (), self.key.index)
        return Block(header, (), bls.sign(self.key.secret_key, header.hash()))

    @handler(msg.Produce)
    async def on_produce(self, m: msg.Produce) -> dict:
        """Dev mode: sign n blocks and commit them in batches; reply once all are durable.
        ``n == 0`` is the Aura loop's own slot tick."""
        if m.n == 0 and self.key is not None:
            await self._aura_produce()
            return {"height": self.head[0], "hash": "0x" + self.head[1].hex()}
        if not self.node.dev or self.key is None:
            raise RuntimeError("dev_produceBlocks needs --dev and an authority key")
        h, hh, hdr = self.head
        left = m.n
        while left > 0:
            batch: list[Block] = []
            now = int(time.time() * 1000)
            for _ in range(min(left, 500)):
                b = self._build(h, hh, hdr, now)
                batch.append(b)
                h, hh, hdr = b.height, b.hash, b.header
            await self._commit(batch, gossip=True)
            left -= len(batch)
        return {"height": h, "hash": "0x" + hh.hex()}

    async def _aura_loop(self) -> None:
        """Aura: sleep to each slot start and produce when this authority owns the slot."""
        spec = self.spec
        while True:
            now = int(time.time() * 1000)
            slot = spec.slot_of(now) + 1
            await asyncio.sleep(max(0.0, (spec.slot_start(slot) - now) / 1000))
            if spec.producer_of_slot(slot) != self.key.index:  # type: ignore[union-attr]
                continue
            try:
                await self.ref.tell(msg.Produce(0))  # serialise through the mailbox
            except Exception:
                return

    async def _aura_produce(self) -> None:
        h, hh, hdr = self.head
        now = int(time.time() * 1000)
        if self.spec.slot_of(hdr.timestamp) >= self.spec.slot_of(now):
            return
        b = self._build(h, hh, hdr, now)
        if b.header.timestamp <= now:
            await self._commit([b], gossip=True)
            log.info("produced block", extra={"height": b.height})

    # -- import ---------------------------------------------------------------------------
    async def _commit(self, blocks: list[Block], gossip: bool, source: str | None = None) -> None:
        await self._ref("storage").ask(msg.Append(blocks), timeout=60)
        self.node.metrics.imported(len(blocks), blocks[-1].height)
        last = blocks[-1]
        net = self._ref("network")
        await net.tell(msg.NewHead(last.height, last.hash))
        if source is None:
            self._execute(last)
        if gossip:
            for b in blocks[-16:]:  # announce only the tip region of a big batch
                self._remember(b.hash)
                await net.tell(
                    msg.Announce(b.encode(), b.hash, exclude=source, forwarded=source is not None)
                )

    def _execute(self, block: Block) -> None:
        """Hand a locally produced block to the EngineActor, if attached.

        Fire-and-forget into a drop-oldest mailbox: the execution layer must never stall block
        production. A dev batch executes only its tip (each execution is four HTTP calls);
        Aura produces one block per commit, so there every block is executed.
        """
        engine = self.system.registry.lookup("engine")
        if engine is None:
            return
        from alys_node.engine.actor import ExecuteBlock

        try:
            engine.tell_nowait(ExecuteBlock(block.height, block.hash, block.header.timestamp))
        except Exception as exc:  # a full or stopped engine mailbox is the engine's problem
            log.warning("engine notification dropped", extra={"error": str(exc)})

    def _remember(self, h: bytes) -> bool:
        if h in self._seen:
            return False
        self._seen[h] = None
        if len(self._seen) > 4096:
            self._seen.popitem(last=False)
        return True

    @handler(msg.ImportBlocks)
    async def on_import(self, m: msg.ImportBlocks) -> msg.ImportResult:
        h, hh, hdr = self.head
        blocks = [b for b in m.blocks if b.height > h]
        if not blocks:
            return msg.ImportResult(True, h)
        try:
            check_range(blocks, self.spec)
        except InvalidBlock as e:
            return msg.ImportResult(False, h, str(e), blocks[0].height)
        try:
            check_link(hdr, hh, blocks[0], self.spec)
        except InvalidBlock as e:
            fork = blocks[0].height == h + 1 and blocks[0].header.parent_hash != hh
            return msg.ImportResult(False, h, str(e), blocks[0].height, fork=fork)
        if not m.verified:
            bad = await self.verifier.first_invalid(blocks)
            if bad is not None:
                return msg.ImportResult(
                    False, h, f"block {blocks[bad].height}: invalid signature", blocks[bad].height
                )
        await self._commit(blocks, gossip=m.gossip, source=m.source)
        return msg.ImportResult(True, blocks[-1].height)

    @handler(msg.SwitchFork)
    async def on_switch(self, m: msg.SwitchFork) -> msg.ImportResult:
        """Longest-chain rule, bounded depth: adopt the branch only if it is strictly longer
        than ours and forks off at most MAX_REORG blocks below our head."""
        h, _, _ = self.head
        blocks = m.blocks
        if not blocks or blocks[-1].height <= h:
            return msg.ImportResult(False, h, "branch is not longer than ours")
        if h - m.ancestor > MAX_REORG:
            return msg.ImportResult(False, h, f"fork deeper than {MAX_REORG} blocks")
        got = await self._ref("storage").ask(msg.GetBlock(height=m.ancestor), timeout=30)
        if got is None:
            return msg.ImportResult(False, h, f"ancestor {m.ancestor} unknown")
        anc: Block = got[0]
        try:
            check_range(blocks, self.spec)
            check_link(anc.header, anc.hash, blocks[0], self.spec)
        except InvalidBlock as e:
            return msg.ImportResult(False, h, str(e), blocks[0].height)
        await self._ref("storage").ask(msg.Replace(m.ancestor, blocks), timeout=60)
        last = blocks[-1]
        self.node.metrics.imported(len(blocks), last.height)
        await self._ref("network").tell(msg.NewHead(last.height, last.hash))
        log.warning(
            "chain reorganised",
            extra={"ancestor": m.ancestor, "dropped": h - m.ancestor, "head": last.height},
        )
        return msg.ImportResult(True, last.height)

    @handler(msg.GossipBlock)
    async def on_gossip(self, m: msg.GossipBlock) -> None:
        net = self._ref("network")
        try:
            b = Block.decode(m.data)
        except DecodeError as e:
            await net.tell(msg.Penalise(m.source, Penalty.MALFORMED, f"malformed NewBlock: {e}"))
            return
        if not self._remember(b.hash):
            return
        h = self.head[0]
        if b.height > h + 1:
            await self._ref("sync").tell(msg.PeerHead(m.source, b.height))
            return
        if b.height <= h:
            return
        res = await self.on_import(msg.ImportBlocks([b], source=m.source, gossip=True))
        if not res.ok:
            if res.fork:  # a competing branch, not proof of malice: let sync decide
                await self._ref("sync").tell(msg.PeerHead(m.source, b.height))
                return
            await net.tell(msg.Penalise(m.source, Penalty.INVALID_BLOCK, res.reason))

    @handler(msg.GetHead)
    def on_head(self, m: msg.GetHead) -> tuple[int, bytes]:
        return self.head[0], self.head[1]
