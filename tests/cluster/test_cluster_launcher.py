"""NodeCluster against the fake node: launch, link through the proxy, faults, teardown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from alys_test_framework.events import EventLog
from alys_test_framework.targets.cluster import (
    ALYS,
    ClusterError,
    NodeCluster,
    Partition,
    ProfileUnsupported,
)
from alys_test_framework.waiting import Stalled, WaitTimeout, wait_until_blocking

FAKE = str(Path(__file__).with_name("fake_node.py"))
COMMAND = ["{python}", FAKE]


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.is_running()]


def test_cluster_links_converge_partition_heal_and_teardown(tmp_path: Path) -> None:
    events = EventLog()

    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path, events=events) as c:
            await c.start(3)
            assert all(n.p2p_port and n.rpc_port for n in c.nodes)
            await c.connect_pairs([(0, 1), (1, 2)])
            await c.nodes[0].call("dev_produceBlocks", 5)
            waited, head = await c.wait_heads_in_sync(10, min_height=5)
            assert head[0] == 5
            # isolate node 2: it must not see new heads until healed
            rec = c.proxy.partition(Partition.isolate(3, 2))
            await c.nodes[0].call("dev_produceBlocks", 3)
            await c.wait_heads_in_sync(10, indices=[0, 1], min_height=8)
            assert (await c.heads([2]))[2][0] == 5
            c.proxy.clear(rec)
            await c.wait_heads_in_sync(10, min_height=8)
            logs = c.merged_logs(tail=None)
            assert any("node-2" in line and "new head" in line for line in logs)
            stamps = [line.split(" ", 1)[0] for line in logs]
            assert stamps == sorted(stamps)
        assert not _children()

    asyncio.run(main())
    kinds = [e.type for e in events.events]
    assert kinds.count("node_started") == 3 and "fault_started" in kinds and "fault_ended" in kinds
    assert kinds.count("node_stopped") == 3  # teardown records the end of every node it started


def test_wait_until_timeout_names_predicate_and_last_observation(tmp_path: Path) -> None:
    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path) as c:
            await c.start(2)  # not connected: heads never reach 3 on node 1
            await c.nodes[0].call("dev_produceBlocks", 3)
            with pytest.raises(WaitTimeout) as info:
                await c.wait_heads_in_sync(0.5, min_height=3)
            msg = str(info.value)
            assert "heads in sync at height >= 3" in msg and "(3, '0x" in msg and "(0, '0x" in msg

    asyncio.run(main())


def test_wait_for_heads_fails_on_a_stall_naming_heads_and_peers(tmp_path: Path) -> None:
    """Nothing moves: the wait ends after the stall window, long before its timeout."""

    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path, stall_s=0.5) as c:
            await c.start(2)
            await c.nodes[0].call("dev_produceBlocks", 3)
            t0 = asyncio.get_running_loop().time()
            with pytest.raises(Stalled) as info:
                await c.wait_heads_in_sync(60, min_height=3)
            assert asyncio.get_running_loop().time() - t0 < 10
            msg = str(info.value)
            assert "made no progress for 0.5 s" in msg and "(0, '0x" in msg
            assert "node-0" in msg and "node-1" in msg  # the peers context of every node

    asyncio.run(main())


def test_kill_pause_resume_restart_keep_datadir(tmp_path: Path) -> None:
    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path) as c:
            await c.start(2, args=["--spawn-child"])
            await c.connect(1, 0)
            await c.nodes[0].call("dev_produceBlocks", 4)
            await c.wait_heads_in_sync(10, min_height=4)
            await c.pause(1)
            assert psutil.Process(c.nodes[1].pid).status() == psutil.STATUS_STOPPED
            heads = await c.heads([1])
            assert "unreachable" in heads[1]
            await c.resume(1)
            await c.wait_heads_in_sync(10, min_height=4)
            old_pid = c.nodes[1].pid
            await c.restart(1)  # SIGKILL then start on the same datadir, re-linked
            assert c.nodes[1].pid != old_pid and not psutil.pid_exists(old_pid)
            assert (await c.heads([1]))[1][0] == 4  # state persisted in its datadir
            await c.nodes[0].call("dev_produceBlocks", 1)
            await c.wait_heads_in_sync(10, min_height=5)
            await c.kill(0)
            assert c.live_indices() == [1]
        assert not _children()  # grandchildren of every node included

    asyncio.run(main())


def test_teardown_on_exception_and_startup_failure(tmp_path: Path) -> None:
    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path) as c:
            await c.start(2, args=["--spawn-child"])
            raise RuntimeError("harness bug")

    with pytest.raises(RuntimeError, match="harness bug"):
        asyncio.run(main())
    assert not _children()

    async def bad() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path / "b") as c:
            await c.add_node(["--crash-on-start"])

    with pytest.raises(ClusterError, match=r"node-0: exited with code 3 before ready.*crashing"):
        asyncio.run(bad())

    async def missing() -> None:
        async with NodeCluster(["/nonexistent/alys-node"], workdir=tmp_path / "c") as c:
            await c.add_node()

    with pytest.raises(ClusterError, match="cannot execute"):
        asyncio.run(missing())
    assert not _children()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_no_orphans_when_the_launcher_is_killed_or_interrupted(tmp_path: Path, sig: int) -> None:
    """SIGKILL of the launcher (no finally, no atexit) or Ctrl-C still takes its nodes down."""
    script = tmp_path / "launcher.py"
    script.write_text(
        "import asyncio, pathlib\n"
        "from alys_test_framework.targets.cluster import NodeCluster\n"
        "async def main():\n"
        f"    async with NodeCluster({COMMAND!r}, workdir=pathlib.Path({str(tmp_path)!r})) as c:\n"
        "        await c.start(2, args=['--spawn-child'])\n"
        "        print(' '.join(str(n.pid) for n in c.nodes), flush=True)\n"
        "        await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )

    pids: list[int] = []

    async def main() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(script), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        pids.append(proc.pid)
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 120)  # type: ignore[union-attr]
            nodes = [int(p) for p in line.split()]
            pids.extend(nodes)
            pids.extend(c.pid for p in nodes for c in psutil.Process(p).children(recursive=True))
            os.kill(proc.pid, sig)
            await asyncio.wait_for(proc.wait(), 120)  # generous: teardown runs on a loaded machine
        finally:
            if proc.returncode is None:  # the test failed: leave nothing for the next test
                proc.kill()
                await proc.wait()

    def alive(p: int) -> bool:
        try:
            return psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    try:
        asyncio.run(main())
        assert len(pids) >= 5  # the launcher, two nodes and their grandchildren
        # the nodes' own processes die with the launcher, however it ended
        wait_until_blocking(
            lambda: not any(alive(p) for p in pids), 30, "every node process gone",
            observe=lambda: [p for p in pids if alive(p)],
        )  # fmt: skip
    finally:
        for p in pids:
            if alive(p):
                os.kill(p, signal.SIGKILL)


def test_alys_profile_drives_a_node_by_its_own_names(tmp_path: Path) -> None:
    """The alys profile: --db-path, peers only through --remote-bootnode at start (a restart),
    heads from getheadblock's nested shape, heights from /metrics; anything else unsupported."""

    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path, profile=ALYS) as c:
            await c.start(2)
            assert "--db-path" in c.nodes[0].argv and "--datadir" not in c.nodes[0].argv
            first_pid = c.nodes[1].pid
            await c.connect(1, 0)  # no admin_addPeer: node 1 restarts with a bootnode flag
            assert c.nodes[1].pid != first_pid and "--remote-bootnode" in c.nodes[1].args
            assert c.nodes[0].profile.supports("chain_head")
            with pytest.raises(ProfileUnsupported, match="'alys' offers no dev_produceBlocks"):
                await c.nodes[0].call("dev_produceBlocks", 3)
            await c.nodes[0].call_raw("dev_produceBlocks", 3)  # the fake can; the profile cannot
            _, head = await c.wait_heads_in_sync(20, min_height=3)
            assert head[0] == 3 and head[1].startswith("0x")
            assert await c.nodes[1].metric("head_height") == 3.0

    asyncio.run(main())
