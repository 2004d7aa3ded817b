"""Recovery without a restart (issue #14): a critical actor beyond its restart intensity is
respawned by the root supervisor (or the node stops, named, never half-alive), and a full disk
is survived: the cause is named, nothing unacknowledged is stored, reads keep working, and
production and import resume by themselves once space returns."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from alys_actors import LifecycleState
from alys_node.chain.spec import dev_spec_and_key
from alys_node.node import Node
from alys_node.store.blockstore import StoreFull
from alys_test_framework.waiting import wait_until as wait_async

from .conftest import wait_until

RUNNING = LifecycleState.RUNNING


async def _fail_past_intensity(node: Node, name: str, error: Exception | None = None) -> None:
    """Four failures within the runtime's 5 s window: the fourth escalates."""
    for _ in range(4):
        ref = await wait_async(
            lambda: (r := node.system.lookup(name)) is not None and r.state is RUNNING and r,
            10,
            f"{name} running",
        )
        await node.system.fail(ref, error or RuntimeError(f"injected failure of {name}"))


def test_escalation_respawns_the_actor_then_stops_the_node_when_it_cannot_recover(tmp_path):
    async def scenario() -> None:
        spec, key = dev_spec_and_key()
        node = Node(datadir=tmp_path / "d", spec=spec, key=key, dev=True, verify_workers=0)
        await node.start()
        try:
            sup = node.supervisor
            sup.base_s, sup.max_escalations = 0.05, 2
            first = node.system.lookup("storage")
            await _fail_past_intensity(node, "storage")
            new = await wait_async(
                lambda: (
                    (r := node.system.lookup("storage")) is not None
                    and r is not first
                    and r.state is RUNNING
                    and r
                ),
                10,
                "storage respawned under its name",
            )
            assert await node.refs["chain"].ask(msg_produce(3), timeout=10)
            got = await new.ask(msg_get(3), timeout=10)
            assert got is not None and got[0].height == 3
            health = sup.health()
            assert health["ok"] and health["actors"]["storage"]["escalations"] == 1, health
            assert not node._stopped.is_set()
            await _fail_past_intensity(node, "storage")
            await wait_async(lambda: sup.health()["ok"], 10, "second respawn")
            await _fail_past_intensity(node, "storage")  # the third: beyond max_escalations=2
            await wait_async(node._stopped.is_set, 10, "node stopping")
            health = sup.health()
            assert health["state"] == "failed" and "storage" in health["error"], health
            assert sup.exit_code == 70 and "injected failure of storage" in (sup.fatal or "")
        finally:
            await node.stop()

    asyncio.run(scenario())


def test_a_full_disk_never_counts_towards_giving_up(tmp_path):
    """Escalations caused by failed store writes are respawned with backoff but never stop
    the node: a long disk-full episode must not end it."""

    async def scenario() -> None:
        spec, key = dev_spec_and_key()
        node = Node(datadir=tmp_path / "d", spec=spec, key=key, dev=True, verify_workers=0)
        await node.start()
        try:
            sup = node.supervisor
            sup.base_s, sup.cap_s, sup.max_escalations = 0.02, 0.05, 1
            full = StoreFull("disk full: 0 bytes free in /x (blocks 1..1 not stored)")
            for i in range(3):
                await _fail_past_intensity(node, "storage", full)
                await wait_async(lambda: sup.health()["ok"], 10, f"respawn {i + 1}")
            assert not node._stopped.is_set() and sup.fatal is None
            assert sup.health()["actors"]["storage"]["escalations"] == 3
            await _fail_past_intensity(node, "storage")  # two real bugs: beyond max 1
            await wait_async(lambda: sup.health()["ok"], 10, "respawn after a bug")
            await _fail_past_intensity(node, "storage")
            await wait_async(node._stopped.is_set, 10, "node stopping")
        finally:
            await node.stop()

    asyncio.run(scenario())


def msg_produce(n: int):
    from alys_node.actors.messages import Produce

    return Produce(n)


def msg_get(h: int):
    from alys_node.actors.messages import GetBlock

    return GetBlock(height=h)


# -- a full disk ------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path):
    """An 8 MiB tmpfs we mount ourselves (we run as root) and always unmount."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path: Path) -> Path:
    """Write a ballast file until the filesystem reports ENOSPC, down to the last byte."""
    ballast = path / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (64 << 10, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    return ballast


def test_a_full_disk_is_survived_without_restart(launch, small_disk):
    src = launch("src", dev=True)  # on the ordinary disk: the chain the follower imports
    src.rpc("dev_produceBlocks", 10)
    prod = launch("prod", "--datadir", str(small_disk / "prod"), dev=True)
    follow = launch("follow", "--datadir", str(small_disk / "follow"), "--bootnode", src.addr)
    acked = prod.rpc("dev_produceBlocks", 10)
    wait_until(lambda: follow.height() == 10, 30, "follower synced before the disk fills")

    ballast = fill(small_disk)
    try:
        err = prod.call("dev_produceBlocks", 5)["error"]["message"]
        assert "disk full" in err and "bytes free in" in err, err
        assert prod.rpc("chain_head") == acked  # the failed batch is not the head...
        assert prod.rpc("chain_getBlockByHeight", acked["height"] + 1) is None  # ...nor stored
        assert prod.rpc("chain_getBlockByHeight", 10)["hash"] == acked["hash"]  # reads work
        target = src.rpc("dev_produceBlocks", 20)
        wait_until(
            lambda: any("disk full" in str(e.get("error", "")) for e in follow.log_events()),
            30,
            "the follower's failed import names the full disk",
        )
        assert follow.height() == 10
    finally:
        os.unlink(ballast)
    assert shutil.disk_usage(small_disk).free > 1 << 20

    def produced():
        r = prod.call("dev_produceBlocks", 5)
        return r.get("result")

    after = wait_until(produced, 30, "production resumes once space returns")
    assert after["height"] == acked["height"] + 5
    wait_until(lambda: follow.rpc("chain_head") == target, 60, "the follower imports again")
    assert prod.proc is not None and prod.proc.poll() is None, "no restart happened"
    assert follow.proc is not None and follow.proc.poll() is None
    assert prod.rpc("node_health")["ok"] and follow.rpc("node_health")["ok"]

    # every block in the store was acknowledged: after a restart the head is the last ack
    assert prod.terminate() == 0
    prod.start()
    assert prod.rpc("chain_head") == after
