"""SyncActor: drives the sans-I/O RangeScheduler over the network and commits in order.

Pipeline: ranges download in parallel from several peers -> each arriving range is decoded and
structure/link-checked here, then its signatures are verified in the process pool (out of order,
concurrently) -> verified ranges are handed to ChainActor strictly in height order, which checks
the link to the head and makes them durable. A range failing any step is re-requested from another
peer and its sender penalised.
"""

from __future__ import annotations

import asyncio
import logging
import time

from alys_actors import Actor, ActorRef, handler
from alys_node.actors import messages as msg
from alys_node.actors.chain import MAX_REORG
from alys_node.chain.block import Block
from alys_node.chain.codec import DecodeError, Reader
from alys_node.chain.validation import InvalidBlock, check_range
from alys_node.p2p.protocol import Penalty
from alys_node.sync.scheduler import RangeScheduler, Request, Stalled

log = logging.getLogger("alys_node.sync")


class SyncActor(Actor):
    def __init__(self, node) -> None:
        self.node = node
        self.sched = RangeScheduler(
            range_size=node.sync_range,
            per_peer=4,
            window=node.sync_window,
            stall_timeout=node.stall_timeout,
            reassign="no-range-reassign" not in node.bugs,
            committed=node.store.head_height,
        )
        self.reqs: dict[tuple[str, int], tuple[int, int]] = {}  # (peer, req_id) -> (start, count)
        self.by_start: dict[int, tuple[str, int]] = {}  # start -> (peer, req_id)
        self.ready: dict[int, tuple[str, list[Block]]] = {}  # verified, awaiting commit
        # fork probes: (peer, req_id) -> (probe start, pending range start, pending blocks)
        self.probes: dict[tuple[str, int], tuple[int, int, list[Block]]] = {}
        self._ticker: asyncio.Task | None = None
        self._committing = False
        self._tasks: set[asyncio.Task] = set()

    async def on_start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_loop())

    async def on_stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
        for t in list(self._tasks):
            t.cancel()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            try:
                await self.ref.tell(msg.Tick())
            except Exception:
                return

    def _ref(self, name: str) -> ActorRef:
        ref = self.system.registry.lookup(name)
        assert ref is not None, name
        return ref

    @property
    def syncing(self) -> bool:
        return self.sched.syncing

    # -- scheduler plumbing ---------------------------------------------------------------
    async def _pump(self) -> None:
        net = self._ref("network")
        self.sched.on_committed(self.node.store.head_height)  # gossip/production also advance it
        for a in self.sched.poll(time.monotonic()):
            if isinstance(a, Stalled):
                old = self.by_start.pop(a.start, None)
                if old:
                    self.reqs.pop(old, None)
                    await net.tell(msg.CancelRequest(*old))
                await net.tell(msg.Penalise(a.peer, Penalty.TIMEOUT, f"range {a.start} stalled"))
                log.warning("range stalled", extra={"peer": a.peer, "start": a.start})
            elif isinstance(a, Request):
                log.debug("range requested", extra={"peer": a.peer, "start": a.start})
                req_id = await net.ask(msg.SendRequest(a.peer, a.start, a.count), timeout=10)
                if req_id is None:  # peer vanished between poll and send
                    self.sched.remove_peer(a.peer)
                    continue
                self.reqs[(a.peer, req_id)] = (a.start, a.count)
                self.by_start[a.start] = (a.peer, req_id)
        self.node.syncing = self.sched.syncing

    @handler(msg.Tick)
    async def on_tick(self, _: msg.Tick) -> None:
        await self._pump()

    @handler(msg.PeerHead)
    async def on_peer_head(self, p: msg.PeerHead) -> None:
        self.sched.add_peer(p.peer, p.head)
        if p.head > self.sched.committed:
            self.node.verifier.warm()
        await self._pump()

    @handler(msg.PeerGone)
    async def on_peer_gone(self, p: msg.PeerGone) -> None:
        self.sched.remove_peer(p.peer)
        for key in [k for k in self.probes if k[0] == p.peer]:
            _, nxt, _ = self.probes.pop(key)
            self.sched.on_invalid(p.peer, nxt)
        for key in [k for k in self.reqs if k[0] == p.peer]:
            start, _ = self.reqs.pop(key)
            if self.by_start.get(start) == key and self.sched.reassign:
                del self.by_start[start]
        await self._pump()

    @handler(msg.SyncStatus)
    def on_status(self, _: msg.SyncStatus) -> dict:
        return {"syncing": self.sched.syncing, "target": self.sched.target}

    # -- data path ------------------------------------------------------------------------
    # -- forks ----------------------------------------------------------------------------
    async def _probe_fork(self, peer: str, nxt: int, blocks: list[Block]) -> None:
        """A verified range does not link to our head: fetch the peer's last MAX_REORG blocks
        below it to find the common ancestor, then ask ChainActor to switch branches."""
        top = nxt - 1
        start = max(1, top - MAX_REORG + 1)
        req = await self._ref("network").ask(msg.SendRequest(peer, start, top - start + 1), 10)
        if req is None:
            self.sched.on_invalid(peer, nxt)
            return
        self.probes[(peer, req)] = (start, nxt, blocks)
        log.info("possible fork, probing peer", extra={"peer": peer, "from": start, "to": top})

    async def _on_probe(self, b: msg.BlocksArrived, job: tuple[int, int, list[Block]]) -> None:
        start, nxt, pending = job
        net = self._ref("network")
        reason = None
        try:
            theirs = [_decode(x) for x in b.blocks]
            if [x.height for x in theirs] != list(range(start, nxt)):
                raise InvalidBlock("fork probe answered with the wrong heights")
            ours = await self._ref("storage").ask(msg.GetHashes(start - 1, nxt - 1), timeout=30)
            branch = theirs + pending
            anc = next(
                (x.height - 1 for x in reversed(branch) if ours.get(x.height - 1) == x.header.parent_hash),
                None,
            )  # fmt: skip
            if anc is None:
                raise InvalidBlock(f"no common ancestor within {MAX_REORG} blocks")
            branch = [x for x in branch if x.height > anc]
            bad = await self.node.verifier.first_invalid([x for x in branch if x.height < nxt])
            if bad is not None:
                raise InvalidBlock(f"invalid signature in block {branch[bad].height}")
            res = await self._ref("chain").ask(
                msg.SwitchFork(anc, branch, source=b.peer), timeout=120
            )
            if not res.ok:
                raise InvalidBlock(res.reason)
            self.sched.on_committed(res.head)
        except (DecodeError, InvalidBlock) as e:
            reason = str(e)
        if reason is not None:
            self.sched.on_invalid(b.peer, nxt)
            await net.tell(msg.Penalise(b.peer, Penalty.BAD_RANGE, f"fork switch failed: {reason}"))
            log.warning("fork switch failed", extra={"peer": b.peer, "reason": reason})
        await self._commit_ready()

    @handler(msg.BlocksArrived)
    async def on_blocks(self, b: msg.BlocksArrived) -> None:
        key = (b.peer, b.req_id)
        probe = self.probes.pop(key, None)
        if probe is not None:
            await self._on_probe(b, probe)
            return
        job = self.reqs.pop(key, None)
        if job is None:
            return
        start, count = job
        if self.by_start.get(start) == key:
            del self.by_start[start]
        net = self._ref("network")
        try:
            blocks = [_decode(x) for x in b.blocks]
            if len(blocks) > count:
                raise InvalidBlock(f"{len(blocks)} blocks for a request of {count}")
            for i, blk in enumerate(blocks):
                if blk.height != start + i:
                    raise InvalidBlock(f"expected height {start + i}, got {blk.height}")
            check_range(blocks, self.node.spec)
        except (DecodeError, InvalidBlock) as e:
            self.sched.on_response(b.peer, start, 0, time.monotonic())
            self.sched.on_invalid(b.peer, start)
            await net.tell(msg.Penalise(b.peer, Penalty.INVALID_BLOCK, f"bad range {start}: {e}"))
            await self._pump()
            return
        self.sched.on_response(b.peer, start, len(blocks), time.monotonic())
        log.debug("range arrived", extra={"peer": b.peer, "start": start, "n": len(blocks)})
        if not blocks:
            await net.tell(msg.Penalise(b.peer, Penalty.TIMEOUT, f"empty range at {start}"))
        else:
            t = asyncio.create_task(self._verify(b.peer, start, blocks))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
        await self._pump()

    async def _verify(self, peer: str, start: int, blocks: list[Block]) -> None:
        bad = await self.node.verifier.first_invalid(blocks)
        reason = None if bad is None else f"invalid signature in block {blocks[bad].height}"
        try:
            await self.ref.tell(msg.RangeChecked(peer, start, blocks, reason))
        except Exception:
            pass

    @handler(msg.RangeChecked)
    async def on_checked(self, r: msg.RangeChecked) -> None:
        if r.bad is not None:
            self.sched.on_invalid(r.peer, r.start)
            await self._ref("network").tell(
                msg.Penalise(r.peer, Penalty.INVALID_BLOCK, f"forged range {r.start}: {r.bad}")
            )
            await self._pump()
            return
        self.ready[r.start] = (r.peer, r.blocks)
        log.debug("range verified", extra={"start": r.start})
        await self._commit_ready()

    async def _commit_ready(self) -> None:
        chain = self._ref("chain")
        head = self.sched.committed
        for s in [s for s in self.ready if s + len(self.ready[s][1]) - 1 <= head]:
            del self.ready[s]
        while True:
            nxt = next(
                (s for s, (_, bl) in self.ready.items() if s <= head + 1 < s + len(bl)), None
            )
            if nxt is None:
                break
            peer, blocks = self.ready.pop(nxt)
            res: msg.ImportResult = await chain.ask(
                msg.ImportBlocks(blocks, source=peer, verified=True), timeout=120
            )
            if not res.ok and res.fork and not self.probes:
                await self._probe_fork(peer, nxt, blocks)
                break
            if not res.ok:
                self.sched.on_invalid(peer, nxt)
                penalty = Penalty.BAD_RANGE if res.fork else Penalty.INVALID_BLOCK
                await self._ref("network").tell(
                    msg.Penalise(peer, penalty, f"range {nxt}: {res.reason}")
                )
                log.warning("range rejected", extra={"peer": peer, "reason": res.reason})
                break
            head = res.head
            log.debug("range committed", extra={"start": nxt, "head": head})
            self.sched.on_committed(head)
        self.sched.on_committed(head)
        await self._pump()


def _decode(data: bytes) -> Block:
    r = Reader(data)
    b = Block.read(r)
    r.end()
    return b
