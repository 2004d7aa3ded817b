"""Nothing outlives a chaos run: the journal's watchdog undoes a tmpfs mount, a cgroup and a
stress process group after the owner is SIGKILLed; an interrupted ``alys-test chaos`` (SIGTERM:
exit 143; SIGKILL: the watchdog) leaves no cgroup, mount (tmpfs, FUSE), process (nodes,
stress-ng, the FUSE daemon), nftables table, network namespace or loopback qdisc behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from alys_test_framework.chaos.cleanup import CGROUP_ROOT
from alys_test_framework.waiting import wait_for_progress, wait_until_blocking

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mounts and cgroups need root")

OWNER = r"""
import os, subprocess, sys, time
from pathlib import Path
from alys_test_framework.chaos.cleanup import CleanupJournal
base = Path(sys.argv[1])
j = CleanupJournal(base / "journal")
mnt = base / "mnt"; mnt.mkdir(exist_ok=True)
j.record("mount", path=str(mnt))
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
cg = Path(sys.argv[2]); j.record("cgroup", path=str(cg)); cg.mkdir(parents=True)
p = subprocess.Popen(["sh", "-c", f"echo $$ > {cg}/cgroup.procs; exec sleep 600"],
                     start_new_session=True)
j.record("pgroup", pgid=p.pid)
print(p.pid, flush=True)
time.sleep(600)
"""


CLI = "import sys; from alys_test_framework.cli import main; sys.exit(main(sys.argv[1:]))"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    st = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    return st != "Z"


@root_only
def test_watchdog_undoes_everything_after_sigkill(tmp_path: Path) -> None:
    (tmp_path / "journal").mkdir()
    cg = CGROUP_ROOT / "memory" / f"alys-chaos-test-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path), str(cg)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        pid = int(proc.stdout.readline())  # type: ignore[union-attr]
        assert os.path.ismount(tmp_path / "mnt") and cg.exists() and _alive(pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until_blocking(
            lambda: not os.path.ismount(tmp_path / "mnt") and not cg.exists() and not _alive(pid),
            20, "mount, cgroup and process undone by the watchdog",
            observe=lambda: (os.path.ismount(tmp_path / "mnt"), cg.exists(), _alive(pid)),
        )  # fmt: skip
        wait_until_blocking(lambda: not list((tmp_path / "journal").glob("run-*.jsonl")), 10,
                            "the replayed journal removed")  # fmt: skip
    finally:
        proc.kill()


def _wait_progressing(
    proc: subprocess.Popen[str], cond: Callable[[], bool], what: str, stall_s: float = 60.0
) -> None:
    """Until ``cond()``, failing only when the run printed nothing new for ``stall_s`` (a loaded
    machine sets the cluster up slowly, not never) or exited; the output is drained meanwhile."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()

    async def wait() -> None:
        await wait_for_progress(lambda: (len(lines), proc.poll()),
                                lambda seen: cond() or seen[1] is not None, what,
                                stall_s=stall_s, poll_s=0.1)  # fmt: skip

    asyncio.run(wait())
    assert proc.poll() is None and cond(), f"{what}: the run exited: {''.join(lines[-20:])}"


def _leftovers(run_pid: int, tag: str) -> dict[str, object]:
    cgs = [str(p) for c in ("memory", "cpu", "blkio") for p in (CGROUP_ROOT / c).glob(
        f"alys-chaos-{run_pid}")]  # fmt: skip
    with open("/proc/mounts") as fh:
        mounts = [line.split()[1] for line in fh if tag in line]
    procs = subprocess.run(["pgrep", "-f", tag], capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    nft = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    tables = [t for t in nft.split() if t.startswith(f"alys_chaos_{run_pid}_")]
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    qdisc = subprocess.run(["tc", "qdisc", "show", "dev", "lo"], capture_output=True,
                           text=True).stdout.split()[:2]  # fmt: skip
    return {"cgroups": cgs, "mounts": mounts, "procs": procs, "nft_tables": tables,
            "netns": [n for n in netns.split() if n.startswith("alys")], "lo_qdisc": qdisc}  # fmt: skip


NOTHING = {"cgroups": [], "mounts": [], "procs": [], "nft_tables": [], "netns": [],
           "lo_qdisc": ["qdisc", "noqueue"]}  # fmt: skip


@root_only
@pytest.mark.parametrize(
    ("sig", "events", "kind"),
    [
        (signal.SIGTERM, "MemoryPressure,CpuStress", "cgroup"),
        (signal.SIGKILL, "MemoryPressure,CpuStress", "cgroup"),
        # kernel network faults and the FUSE datadir: nft tables, a FUSE mount and its daemon
        pytest.param(
            signal.SIGTERM,
            "DiskFailure,NetworkPartition,NetworkCongestion",
            "nft",
            marks=pytest.mark.slow,
        ),  # ~60 s each: the FUSE node and two events first
        pytest.param(
            signal.SIGKILL,
            "DiskFailure,NetworkPartition,NetworkCongestion",
            "nft",
            marks=pytest.mark.slow,
        ),
    ],
    ids=["SIGTERM-cgroup", "SIGKILL-cgroup", "SIGTERM-nft-fuse", "SIGKILL-nft-fuse"],
)
def test_interrupted_chaos_run_leaves_nothing(
    tmp_path: Path, sig: signal.Signals, events: str, kind: str
) -> None:
    tag = f"chaos-{sig.name}-{kind}-{os.getpid()}"
    rd = tmp_path / tag
    env = {**os.environ, "ALYS_CHAOS_JOURNAL_DIR": str(tmp_path / "journal")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "chaos", "--duration", "60",
         "--events", events, "--report-dir", str(rd)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:

        def journal_live() -> bool:
            for p in (tmp_path / "journal").glob("run-*.jsonl"):
                kinds = [json.loads(x).get("kind") for x in p.read_text().splitlines()]
                if kind in kinds:
                    return True
            return False

        _wait_progressing(proc, journal_live, f"a {kind} recorded in the chaos journal")
        proc.send_signal(sig)
        rc = proc.wait(60)
        if sig is signal.SIGTERM:
            assert rc == 143, rc
        wait_until_blocking(
            lambda: _leftovers(proc.pid, tag) == NOTHING,
            30, f"nothing left after {sig.name}", observe=lambda: _leftovers(proc.pid, tag),
        )  # fmt: skip
    finally:
        proc.kill()
