"""EngineActor runs forkchoiceUpdated -> getPayload -> newPayload for each produced block."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from alys_node.engine.actor import ACTOR_NAME, ExecuteBlock, attach
from alys_node.engine.jwt_auth import load_secret

alys_actors = pytest.importorskip("alys_actors")


class _Rpc:
    def __init__(self) -> None:
        self.methods: dict = {}

    def register(self, method, handler) -> None:
        self.methods[method] = handler


def _port_open(url: str) -> bool:
    host, port = url.split("//")[1].rstrip("/").split(":")
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


def test_lighthouse_engine_actor_executes_each_block(tmp_path: Path) -> None:
    async def run():
        system = alys_actors.ActorSystem("engine-test", seed=1)
        node = SimpleNamespace(system=system, rpc=_Rpc(), datadir=tmp_path)
        await attach(node)
        ref = system.registry.lookup(ACTOR_NAME)
        replies = []
        for h in range(1, 11):
            msg = ExecuteBlock(h, h.to_bytes(32, "big"), 1_700_000_000_000 + h * 500)
            replies.append(await ref.ask(msg, timeout=10))
        status = await node.rpc.methods["engine_status"]([])
        url = status["url"]
        open_before = _port_open(url)
        await system.shutdown()
        return replies, status, open_before, _port_open(url)

    replies, status, open_before, open_after = asyncio.run(run())
    assert [r["height"] for r in replies] == list(range(1, 11))
    assert len({r["execution_hash"] for r in replies}) == 10
    assert all(
        b["execution_parent"] == a["execution_hash"]
        for a, b in zip(replies, replies[1:], strict=False)
    )
    assert status["executed"] == 10 and status["failures"] == 0 and status["dropped"] == 0
    assert status["execution_head"] == replies[-1]["execution_hash"]
    assert len(load_secret(tmp_path / "jwt.hex")) == 32
    assert open_before and not open_after, "endpoint must stop with the actor system"


def test_lighthouse_engine_actor_restart_keeps_execution_chain(tmp_path: Path) -> None:
    """A crash restarts a fresh EngineActor; the endpoint and execution head survive it."""

    async def run():
        system = alys_actors.ActorSystem("engine-restart", seed=2)
        node = SimpleNamespace(system=system, rpc=_Rpc(), datadir=tmp_path)
        await attach(node)
        ref = system.registry.lookup(ACTOR_NAME)
        first = await ref.ask(ExecuteBlock(1, b"\x01" * 32, 1_700_000_000_000), timeout=10)
        await system.fail(ref)
        for _ in range(200):  # wait for the supervisor's restart (a real condition, bounded)
            if ref.state is alys_actors.LifecycleState.RUNNING and ref.stats.restarts >= 1:
                break
            await asyncio.sleep(0.01)
        second = await ref.ask(ExecuteBlock(2, b"\x02" * 32, 1_700_000_001_000), timeout=10)
        status = await node.rpc.methods["engine_status"]([])
        restarts = ref.stats.restarts
        await system.shutdown()
        return first, second, status, restarts

    first, second, status, restarts = asyncio.run(run())
    assert restarts >= 1
    assert status["executed"] == 2 and status["execution_head"] == second["execution_hash"]
    assert second["execution_parent"] == first["execution_hash"]
