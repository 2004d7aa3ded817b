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
from alys_test_framework.targets.cluster import ClusterError, ClusterTimeout, NodeCluster, Partition

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
            with pytest.raises(ClusterTimeout) as info:
                await c.wait_heads_in_sync(0.5, min_height=3)
            msg = str(info.value)
            assert "heads in sync at height >= 3" in msg and "(3, '0x" in msg and "(0, '0x" in msg

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

    async def main() -> list[int]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(script), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        line = await asyncio.wait_for(proc.stdout.readline(), 60)  # type: ignore[union-attr]
        pids = [int(p) for p in line.split()]
        pids += [c.pid for p in pids for c in psutil.Process(p).children(recursive=True)]
        os.kill(proc.pid, sig)
        await asyncio.wait_for(proc.wait(), 30)
        return pids

    pids = asyncio.run(main())
    assert len(pids) >= 4  # two nodes and their grandchildren

    def alive(p: int) -> bool:
        try:
            return psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    async def gone() -> bool:
        for _ in range(200):
            if not any(alive(p) for p in pids):
                return True
            await asyncio.sleep(0.05)
        return False

    assert asyncio.run(gone()), [p for p in pids if alive(p)]
