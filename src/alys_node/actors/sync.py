"""SyncActor: the asyncio adapter around the sans-I/O SyncMachine (sync/machine.py).

Pipeline: ranges download in parallel from several peers -> each arriving range is decoded and
structure/link-checked by the machine, then its signatures are verified in the process pool (out
of order, concurrently) -> verified ranges are handed to ChainActor strictly in height order,
which checks the link to the head and makes them durable. The rules are the machine's; this file
only turns its actions into messages and feeds the answers back, in order: an action's follow-ups
run before the actions queued behind it, as if the machine had awaited it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from alys_actors import Actor, ActorRef, handler
from alys_node.actors import messages as msg
from alys_node.actors.views import View
from alys_node.chain.block import Block
from alys_node.chain.fork_choice import Head
from alys_node.sync import actions as act
from alys_node.sync.machine import SyncMachine
from alys_node.verification import Verifier

log = logging.getLogger("alys_node.sync")
TICK_S = 0.25


class SyncActor(Actor):
    """``machine`` is built per incarnation (a restart starts from the published head);
    ``syncing`` is the View this actor owns and publishes for node_status."""

    def __init__(
        self,
        *,
        machine: Callable[[int], SyncMachine],
        verifier: Verifier,
        head: View[Head],
        syncing: View[bool],
    ) -> None:
        self.machine = machine(head.value.height)
        self.verifier = verifier
        self.head = head
        self.syncing = syncing
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_loop())

    async def on_stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
        for t in list(self._tasks):
            t.cancel()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                await self.ref.tell(msg.Tick())
            except Exception:
                return

    def _ref(self, name: str) -> ActorRef:
        ref = self.system.registry.lookup(name)
        assert ref is not None, name
        return ref

    # -- driving the machine ---------------------------------------------------------------
    async def _run(self, actions: list[act.Action]) -> None:
        queue = deque(actions)
        while queue:
            follow = await self._do(queue.popleft())
            queue.extendleft(reversed(follow))

    async def _pump(self, actions: list[act.Action]) -> None:
        """Run a handler's actions, then poll the scheduler (as every event ends with)."""
        await self._run(actions)
        await self._run(self.machine.poll(time.monotonic(), self.head.value.height))
        self.syncing.publish(self.machine.syncing)

    async def _do(self, a: act.Action) -> list[act.Action]:
        m = self.machine
        if isinstance(a, act.Log):
            log.log(a.level, a.message, extra=a.fields)
        elif isinstance(a, act.Penalise):
            await self._ref("network").tell(msg.Penalise(a.peer, a.penalty, a.reason))
        elif isinstance(a, act.SendRange):
            req = await self._ref("network").ask(msg.SendRequest(a.peer, a.start, a.count), 10)
            return m.request_sent(a.peer, a.start, a.count, req)
        elif isinstance(a, act.Cancel):
            await self._ref("network").tell(msg.CancelRequest(a.peer, a.req_id))
        elif isinstance(a, act.Verify):
            t = asyncio.create_task(self._verify(a.peer, a.start, a.blocks))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
        elif isinstance(a, act.Import):
            res: msg.ImportResult = await self._ref("chain").ask(
                msg.ImportBlocks(a.blocks, source=a.peer, verified=True), timeout=120
            )
            return m.import_done(act.ChainReply(res.ok, res.head, res.reason, res.fork))
        elif isinstance(a, act.SendProbe):
            req = await self._ref("network").ask(msg.SendRequest(a.peer, a.start, a.count), 10)
            return m.probe_sent(req, time.monotonic())
        elif isinstance(a, act.LoadHashes):
            ours = await self._ref("storage").ask(msg.GetHashes(a.start, a.end), timeout=30)
            return m.hashes_loaded(ours)
        elif isinstance(a, act.VerifyBranch):
            return m.branch_verified(await self.verifier.first_invalid(a.blocks))
        elif isinstance(a, act.SwitchBranch):
            res = await self._ref("chain").ask(
                msg.SwitchFork(a.ancestor, a.blocks, source=a.peer), timeout=120
            )
            return m.switch_done(act.ChainReply(res.ok, res.head, res.reason, res.fork))
        elif isinstance(a, act.WarmVerifier):
            self.verifier.warm()
        return []

    async def _verify(self, peer: str, start: int, blocks: list[Block]) -> None:
        bad = await self.verifier.first_invalid(blocks)
        reason = None if bad is None else f"invalid signature in block {blocks[bad].height}"
        try:
            await self.ref.tell(msg.RangeChecked(peer, start, blocks, reason))
        except Exception:
            pass

    # -- events ----------------------------------------------------------------------------
    @handler(msg.Tick)
    async def on_tick(self, _: msg.Tick) -> None:
        await self._pump([])

    @handler(msg.PeerHead)
    async def on_peer_head(self, p: msg.PeerHead) -> None:
        await self._pump(self.machine.peer_head(p.peer, p.head))

    @handler(msg.PeerGone)
    async def on_peer_gone(self, p: msg.PeerGone) -> None:
        await self._pump(self.machine.peer_gone(p.peer))

    @handler(msg.SyncStatus)
    def on_status(self, _: msg.SyncStatus) -> dict[str, object]:
        return {"syncing": self.machine.syncing, "target": self.machine.target}

    @handler(msg.BlocksArrived)
    async def on_blocks(self, b: msg.BlocksArrived) -> None:
        await self._pump(self.machine.blocks_arrived(b.peer, b.req_id, b.blocks, time.monotonic()))

    @handler(msg.RangeChecked)
    async def on_checked(self, r: msg.RangeChecked) -> None:
        await self._pump(self.machine.range_checked(r.peer, r.start, r.blocks, r.bad))
