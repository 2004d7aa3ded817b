"""ChainActor, the adapter around fork choice: the head is published only once durable.

Run on a real ActorSystem with stand-in storage (whose writes the test holds or fails) and
network (which records what the chain announces). The head View is what RPC and sync read, so
it must never show a block the store has not acknowledged, nor keep one a write refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from alys_actors import Actor, ActorSystem, handler
from alys_node.actors import messages as msg
from alys_node.actors.chain import ChainActor
from alys_node.actors.views import View
from alys_node.chain.block import Block
from alys_node.chain.fork_choice import MAX_REORG, Head
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.metrics import NodeMetrics
from alys_node.verification import Verifier
from alys_test_framework.waiting import wait_until

from .chainkit import build_chain, outsider_key

TIMEOUT_S = 10.0


class HeldStorage(Actor):
    """Each write waits for ``release``; ``fail`` makes it raise (a full disk, say)."""

    def __init__(self, blocks: dict[int, Block], gate: dict[str, object]) -> None:
        self.blocks = blocks
        self.gate = gate

    async def _write(self) -> None:
        self.gate["pending"] = True
        release = self.gate["release"]
        assert isinstance(release, asyncio.Event)
        await release.wait()
        self.gate["pending"] = False
        if self.gate.get("fail"):
            raise OSError("disk full")

    @handler(msg.Append)
    async def on_append(self, m: msg.Append) -> int:
        await self._write()
        self.blocks.update({b.height: b for b in m.blocks})
        return m.blocks[-1].height

    @handler(msg.Replace)
    async def on_replace(self, m: msg.Replace) -> int:
        await self._write()
        for h in [h for h in self.blocks if h > m.ancestor]:
            del self.blocks[h]
        self.blocks.update({b.height: b for b in m.blocks})
        return m.blocks[-1].height

    @handler(msg.GetBlock)
    def on_get(self, m: msg.GetBlock) -> tuple[Block, float] | None:
        b = self.blocks.get(m.height or 0)
        return (b, 0.0) if b else None


class Recorder(Actor):
    def __init__(self, log: list[object]) -> None:
        self.log = log

    @handler(msg.NewHead)
    def on_head(self, m: msg.NewHead) -> None:
        self.log.append(m)

    @handler(msg.Announce)
    def on_announce(self, m: msg.Announce) -> int:
        self.log.append(m)
        return 0

    @handler(msg.Penalise)
    def on_penalise(self, m: msg.Penalise) -> None:
        self.log.append(m)

    @handler(msg.PeerHead)
    def on_peer_head(self, m: msg.PeerHead) -> None:
        self.log.append(m)


@pytest.fixture(scope="module")
def key(spec_dir) -> AuthorityKey:
    return AuthorityKey.load(spec_dir / "authority-0.key")


class Rig:
    def __init__(self, spec: ChainSpec, key: AuthorityKey, ours: list[Block]) -> None:
        self.spec = spec
        self.key = key
        genesis = spec.genesis()
        self.blocks = {0: genesis} | {b.height: b for b in ours}
        self.head = View(Head.of(ours[-1] if ours else genesis))
        self.release = asyncio.Event()
        self.gate: dict[str, object] = {"release": self.release, "pending": False}
        self.net: list[object] = []
        self.verifier = Verifier(spec.authorities, workers=0)

    async def __aenter__(self) -> Rig:
        self.system = ActorSystem("chain-actor-test")
        spawn = self.system.spawn
        await spawn(lambda: HeldStorage(self.blocks, self.gate), name="storage")
        await spawn(lambda: Recorder(self.net), name="network")
        await spawn(lambda: Recorder(self.net), name="sync")
        self.chain = await spawn(
            lambda: ChainActor(
                spec=self.spec,
                verifier=self.verifier,
                metrics=NodeMetrics(),
                head=self.head,
                key=self.key,
                dev=True,
            ),
            name="chain",
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.system.shutdown(timeout=5.0)
        self.verifier.close()

    async def write_pending(self) -> None:
        await wait_until(lambda: self.gate["pending"], TIMEOUT_S, "a store write in progress")


def run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro_fn())


def test_produced_blocks_become_the_head_only_after_the_store_acknowledged(spec, key):
    async def go() -> None:
        async with Rig(spec, key, []) as rig:
            reply = asyncio.ensure_future(rig.chain.ask(msg.Produce(3), timeout=TIMEOUT_S))
            await rig.write_pending()
            assert rig.head.value.height == 0 and rig.net == []  # not durable: not the head
            rig.release.set()
            assert (await reply)["height"] == 3
            assert rig.head.value == Head.of(rig.blocks[3])
            assert msg.NewHead(3, rig.blocks[3].hash) in rig.net

    run(go)


def test_a_refused_write_leaves_the_head_where_it_was(spec, key):
    async def go() -> None:
        async with Rig(spec, key, []) as rig:
            rig.gate["fail"] = True
            rig.release.set()
            with pytest.raises(OSError, match="disk full"):
                await rig.chain.ask(msg.Produce(2), timeout=TIMEOUT_S)
            assert rig.head.value.height == 0
            assert not [m for m in rig.net if isinstance(m, msg.NewHead)]

    run(go)


def test_imports_follow_fork_choice_rules_2_to_4(spec, key):
    ours = build_chain(spec, key, 5)
    theirs = build_chain(spec, key, 4, parent=ours[2], txs=(b"fork",))  # 4..7

    async def go() -> None:
        async with Rig(spec, key, ours) as rig:
            rig.release.set()
            known = await rig.chain.ask(msg.ImportBlocks(ours[:5]), timeout=TIMEOUT_S)
            assert (known.ok, known.head) == (True, 5)
            fork = await rig.chain.ask(msg.ImportBlocks(theirs[2:]), timeout=TIMEOUT_S)
            assert not fork.ok and fork.fork and fork.bad_height == 6
            forged = build_chain(spec, outsider_key(), 1, parent=ours[4])
            bad = await rig.chain.ask(msg.ImportBlocks(forged), timeout=TIMEOUT_S)
            assert not bad.ok and "invalid signature" in bad.reason and not bad.fork
            more = build_chain(spec, key, 2, parent=ours[4])
            ok = await rig.chain.ask(msg.ImportBlocks(more), timeout=TIMEOUT_S)
            assert ok.ok and rig.head.value == Head.of(more[-1])

    run(go)


def test_switches_follow_fork_choice_rules_5_to_7(spec, key):
    ours = build_chain(spec, key, 6)
    theirs = build_chain(spec, key, 4, parent=ours[2], txs=(b"fork",))  # 4..7

    async def go() -> None:
        async with Rig(spec, key, ours) as rig:
            rig.release.set()
            tie = await rig.chain.ask(msg.SwitchFork(3, theirs[:3]), timeout=TIMEOUT_S)
            assert not tie.ok and tie.reason == "branch is not longer than ours"
            deep = await rig.chain.ask(msg.SwitchFork(6 - MAX_REORG - 1, theirs), TIMEOUT_S)
            assert not deep.ok and "deeper" in deep.reason
            unlinked = await rig.chain.ask(msg.SwitchFork(2, theirs), timeout=TIMEOUT_S)
            assert not unlinked.ok and unlinked.bad_height == 4
            assert rig.head.value == Head.of(ours[-1])  # nothing changed so far
            ok = await rig.chain.ask(msg.SwitchFork(3, theirs), timeout=TIMEOUT_S)
            assert ok.ok and ok.head == 7 and rig.head.value == Head.of(theirs[-1])
            assert rig.blocks[4] == theirs[0] and msg.NewHead(7, theirs[-1].hash) in rig.net

    run(go)
