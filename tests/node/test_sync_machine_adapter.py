"""SyncActor, the adapter around the sync machine, on a real ActorSystem with stand-in actors.

The stand-ins answer like the node's own actors (network serves a peer's chain, chain applies
fork choice to a published head, storage returns our hashes); the checks are what the adapter
must get right: every answer fed back, imports in height order, the head published by the chain
alone, and a fork resolved by one switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from alys_actors import Actor, ActorSystem, handler
from alys_node.actors import messages as msg
from alys_node.actors.sync import SyncActor
from alys_node.actors.views import View
from alys_node.chain.block import Block
from alys_node.chain.fork_choice import Head
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.sync.machine import SyncMachine
from alys_node.sync.scheduler import RangeScheduler
from alys_node.verification import Verifier
from alys_test_framework.waiting import wait_until

from .chainkit import build_chain

TIMEOUT_S = 30.0


class PeerNetwork(Actor):
    """Serves ``chain`` as peer "a": every request is answered from a task, like a socket."""

    def __init__(self, chain: list[Block], log: list[object]) -> None:
        self.chain = {b.height: b for b in chain}
        self.log = log
        self.next_id = 0

    @handler(msg.SendRequest)
    async def on_request(self, r: msg.SendRequest) -> int:
        self.next_id += 1
        rid = self.next_id
        blobs = tuple(
            self.chain[h].encode() for h in range(r.start, r.start + r.count) if h in self.chain
        )
        sync = self.system.registry.lookup("sync")
        assert sync is not None
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(sync.tell(msg.BlocksArrived(r.peer, rid, blobs)))
        )
        return rid

    @handler(msg.Penalise)
    def on_penalise(self, p: msg.Penalise) -> None:
        self.log.append(p)

    @handler(msg.CancelRequest)
    def on_cancel(self, c: msg.CancelRequest) -> None:
        self.log.append(c)


class Chain(Actor):
    """Extends or switches the published head the way ChainActor's fork choice would."""

    def __init__(self, head: View[Head], log: list[object]) -> None:
        self.view = head
        self.log = log

    @handler(msg.ImportBlocks)
    def on_import(self, m: msg.ImportBlocks) -> msg.ImportResult:
        self.log.append(("import", m.blocks[0].height, m.blocks[-1].height))
        head = self.view.value
        blocks = [b for b in m.blocks if b.height > head.height]
        if not blocks:
            return msg.ImportResult(True, head.height)
        if blocks[0].header.parent_hash != head.hash:
            return msg.ImportResult(False, head.height, "parent hash mismatch", fork=True)
        self.view.publish(Head.of(blocks[-1]))
        return msg.ImportResult(True, blocks[-1].height)

    @handler(msg.SwitchFork)
    def on_switch(self, m: msg.SwitchFork) -> msg.ImportResult:
        self.log.append(("switch", m.ancestor, m.blocks[-1].height))
        self.view.publish(Head.of(m.blocks[-1]))
        return msg.ImportResult(True, m.blocks[-1].height)


class Storage(Actor):
    def __init__(self, ours: dict[int, bytes]) -> None:
        self.ours = ours

    @handler(msg.GetHashes)
    def on_hashes(self, m: msg.GetHashes) -> dict[int, bytes]:
        return {h: v for h, v in self.ours.items() if m.start <= h <= m.end}


@pytest.fixture(scope="module")
def key(spec_dir) -> AuthorityKey:
    return AuthorityKey.load(spec_dir / "authority-0.key")


async def run_sync(
    spec: ChainSpec, ours: list[Block], theirs: list[Block], done: Callable[[Head], bool]
) -> tuple[list[object], list[object], View[bool]]:
    genesis = spec.genesis()
    head = View(Head.of(ours[-1] if ours else genesis))
    syncing = View(False)
    net_log: list[object] = []
    chain_log: list[object] = []
    hashes = {0: genesis.hash} | {b.height: b.hash for b in ours}
    verifier = Verifier(spec.authorities, workers=0)

    def machine(committed: int) -> SyncMachine:
        return SyncMachine(spec, RangeScheduler(range_size=16, committed=committed))

    async with ActorSystem("sync-adapter-test") as system:
        await system.spawn(lambda: PeerNetwork(theirs, net_log), name="network")
        await system.spawn(lambda: Chain(head, chain_log), name="chain")
        await system.spawn(lambda: Storage(hashes), name="storage")
        sync = await system.spawn(
            lambda: SyncActor(machine=machine, verifier=verifier, head=head, syncing=syncing),
            name="sync",
        )
        await sync.tell(msg.PeerHead("a", theirs[-1].height))
        await wait_until(
            lambda: done(head.value),
            TIMEOUT_S,
            "the head reached",
            observe=lambda: head.value.height,
        )
        await wait_until(lambda: not syncing.value, TIMEOUT_S, "sync reported finished")
    verifier.close()
    return net_log, chain_log, syncing


def test_ranges_are_imported_in_height_order_and_sync_finishes(spec, key):
    chain = build_chain(spec, key, 60)
    net_log, chain_log, _ = asyncio.run(
        run_sync(spec, [], chain, lambda h: h.height == 60 and h.hash == chain[-1].hash)
    )
    imports = [(lo, hi) for kind, lo, hi in chain_log if kind == "import"]  # type: ignore[misc]
    assert imports == sorted(imports) and imports[0][0] == 1 and imports[-1][1] == 60
    assert all(b[0] == a[1] + 1 for a, b in zip(imports, imports[1:], strict=False))
    assert net_log == []  # an honest peer is never penalised


def test_a_longer_fork_is_probed_and_switched_to_once(spec, key):
    ours = build_chain(spec, key, 5)
    theirs = ours[:3] + build_chain(spec, key, 12, parent=ours[2], txs=(b"fork",))
    net_log, chain_log, _ = asyncio.run(
        run_sync(spec, ours, theirs, lambda h: h.hash == theirs[-1].hash)
    )
    assert [e for e in chain_log if e[0] == "switch"] == [("switch", 3, 15)]  # type: ignore[index]
    assert net_log == []
