"""ChainActor: the only owner of the canonical head. Every block that becomes part of the chain
passes through its mailbox, so validation-then-commit is serialised and the head never races.

The head lives in a View this actor publishes after StorageActor made the blocks durable; other
actors and the RPC read that View, never the store (whose head a worker thread rewrites during a
write). A block is acknowledged (RPC reply, gossip, Status) only once it is durable. What may
extend or replace the head is decided by chain/fork_choice.py; this file does the I/O around it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from alys_actors import Actor, ActorRef, handler
from alys_node.actors import messages as msg
from alys_node.actors.views import View
from alys_node.chain import fork_choice as fc
from alys_node.chain.block import Block, make_header
from alys_node.chain.codec import DecodeError
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.crypto import bls
from alys_node.metrics import NodeMetrics
from alys_node.p2p.protocol import Penalty
from alys_node.verification import Verifier

log = logging.getLogger("alys_node.chain")
MAX_REORG = fc.MAX_REORG  # kept importable from here for older callers
SEEN_MAX = 4096  # block hashes remembered to drop repeated gossip
GOSSIP_TIP = 16  # blocks of a committed batch announced (the tip region only)
PRODUCE_BATCH = 500


class ChainActor(Actor):
    def __init__(
        self,
        *,
        spec: ChainSpec,
        verifier: Verifier,
        metrics: NodeMetrics,
        head: View[fc.Head],
        key: AuthorityKey | None = None,
        dev: bool = False,
    ) -> None:
        self.spec = spec
        self.verifier = verifier
        self.metrics = metrics
        self.head_view = head
        self.key = key
        self.dev = dev
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._aura: asyncio.Task[None] | None = None

    @property
    def head(self) -> fc.Head:
        return self.head_view.value

    async def on_start(self) -> None:
        if self.key is not None and not self.dev:
            self._aura = asyncio.create_task(self._aura_loop(self.key))

    async def on_stop(self) -> None:
        if self._aura:
            self._aura.cancel()

    def _ref(self, name: str) -> ActorRef:
        ref = self.system.registry.lookup(name)
        assert ref is not None, name
        return ref

    # -- production -----------------------------------------------------------------------
    def _build(self, key: AuthorityKey, parent: fc.Head, now_ms: int) -> Block:
        spec = self.spec
        slot = max(spec.slot_of(parent.header.timestamp) + 1, spec.slot_of(now_ms))
        slot += (key.index - slot) % len(spec.authorities)
        header = make_header(parent.height + 1, parent.hash, spec.slot_start(slot), (), key.index)
        return Block(header, (), bls.sign(key.secret_key, header.hash()))

    @handler(msg.Produce)
    async def on_produce(self, m: msg.Produce) -> dict[str, object]:
        """Dev mode: sign n blocks and commit them in batches; reply once all are durable.
        ``n == 0`` is the Aura loop's own slot tick."""
        if m.n == 0 and self.key is not None:
            await self._aura_produce(self.key)
            return {"height": self.head.height, "hash": "0x" + self.head.hash.hex()}
        if not self.dev or self.key is None:
            raise RuntimeError("dev_produceBlocks needs --dev and an authority key")
        tip = self.head
        left = m.n
        while left > 0:
            batch: list[Block] = []
            now = int(time.time() * 1000)
            for _ in range(min(left, PRODUCE_BATCH)):
                b = self._build(self.key, tip, now)
                batch.append(b)
                tip = fc.Head.of(b)
            await self._commit(batch, gossip=True)
            left -= len(batch)
        return {"height": tip.height, "hash": "0x" + tip.hash.hex()}

    async def _aura_loop(self, key: AuthorityKey) -> None:
        """Aura: sleep to each slot start and produce when this authority owns the slot."""
        spec = self.spec
        while True:
            now = int(time.time() * 1000)
            slot = spec.slot_of(now) + 1
            await asyncio.sleep(max(0.0, (spec.slot_start(slot) - now) / 1000))
            if spec.producer_of_slot(slot) != key.index:
                continue
            try:
                await self.ref.tell(msg.Produce(0))  # serialise through the mailbox
            except Exception:
                return

    async def _aura_produce(self, key: AuthorityKey) -> None:
        tip = self.head
        now = int(time.time() * 1000)
        if self.spec.slot_of(tip.header.timestamp) >= self.spec.slot_of(now):
            return
        b = self._build(key, tip, now)
        if b.header.timestamp <= now:
            await self._commit([b], gossip=True)
            log.info("produced block", extra={"height": b.height})

    # -- import ---------------------------------------------------------------------------
    def _publish(self, last: Block) -> None:
        """The blocks up to ``last`` are durable: they are the head from now on."""
        self.head_view.publish(fc.Head.of(last))

    async def _commit(self, blocks: list[Block], gossip: bool, source: str | None = None) -> None:
        await self._ref("storage").ask(msg.Append(blocks), timeout=60)
        last = blocks[-1]
        self._publish(last)
        self.metrics.imported(len(blocks), last.height)
        net = self._ref("network")
        await net.tell(msg.NewHead(last.height, last.hash))
        if source is None:
            self._execute(last)
        if gossip:
            for b in blocks[-GOSSIP_TIP:]:
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
        from alys_node.engine.actor import ExecuteBlock  # optional module: only if attached

        try:
            engine.tell_nowait(ExecuteBlock(block.height, block.hash, block.header.timestamp))
        except Exception as exc:  # a full or stopped engine mailbox is the engine's problem
            log.warning("engine notification dropped", extra={"error": str(exc)})

    def _remember(self, h: bytes) -> bool:
        if h in self._seen:
            return False
        self._seen[h] = None
        if len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return True

    @handler(msg.ImportBlocks)
    async def on_import(self, m: msg.ImportBlocks) -> msg.ImportResult:
        head = self.head
        plan = fc.plan_import(head, m.blocks, self.spec)
        if isinstance(plan, fc.Known):
            return msg.ImportResult(True, head.height)
        if isinstance(plan, fc.Rejected):
            return msg.ImportResult(False, head.height, plan.reason, plan.height, fork=plan.fork)
        blocks = plan.blocks
        if not m.verified:
            bad = await self.verifier.first_invalid(blocks)
            if bad is not None:
                h = blocks[bad].height
                return msg.ImportResult(False, head.height, f"block {h}: invalid signature", h)
        await self._commit(blocks, gossip=m.gossip, source=m.source)
        return msg.ImportResult(True, blocks[-1].height)

    @handler(msg.SwitchFork)
    async def on_switch(self, m: msg.SwitchFork) -> msg.ImportResult:
        """Fork choice rules 5-7: adopt the branch only if it is strictly longer than ours and
        forks off at most MAX_REORG blocks below our head."""
        h = self.head.height
        refused = fc.admit_branch(h, m.ancestor, m.blocks)
        if refused is not None:
            return msg.ImportResult(False, h, refused.reason)
        got = await self._ref("storage").ask(msg.GetBlock(height=m.ancestor), timeout=30)
        if got is None:
            return msg.ImportResult(False, h, f"ancestor {m.ancestor} unknown")
        refused = fc.check_branch(got[0], m.blocks, self.spec)
        if refused is not None:
            return msg.ImportResult(False, h, refused.reason, refused.height)
        await self._ref("storage").ask(msg.Replace(m.ancestor, m.blocks), timeout=60)
        last = m.blocks[-1]
        self._publish(last)
        self.metrics.imported(len(m.blocks), last.height)
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
        h = self.head.height
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
        return self.head.height, self.head.hash
