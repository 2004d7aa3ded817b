"""Resource faults with cgroup v1 controllers, a size-limited tmpfs and a FUSE passthrough.

Each fault moves the target node's process group into a cgroup the run creates (named after
the run, recorded in the clean-up journal first) and, for pressure, starts stress-ng in the same
cgroup (its shell writes itself into ``cgroup.procs`` before exec, so no worker escapes).
Effects are read back from the controller: the memory ceiling and its fail count, CPU
throttling counts, throttled I/O; disk exhaustion from the node's own "disk full" answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

from ...waiting import WaitTimeout, wait_until
from ..cleanup import CGROUP_ROOT
from . import faulty_fs
from .base import ChaosContext, Effect, Mechanism, head
from .faulty_fs import binding_unavailable

MIB = 1 << 20


def _is_root() -> bool:
    return os.geteuid() == 0


def _controller(name: str) -> Path | None:
    p = CGROUP_ROOT / name
    return p if (p / "cgroup.procs").exists() else None


class _CgroupFault(Mechanism):
    controller = "memory"
    name = "cgroup-v1"

    @classmethod
    def unavailable(cls) -> str | None:
        if not _is_root():
            return "needs root to create cgroups (run as root, as CI does)"
        if _controller(cls.controller) is None:
            return f"cgroup v1 controller {cls.controller!r} not mounted at {CGROUP_ROOT}"
        return None

    def _make_cgroup(self) -> Path:
        root = _controller(self.controller)
        assert root is not None
        parent = root / self.ctx.run_tag
        if str(parent) not in self.ctx.cgroup_parents:  # undone last: the journal is LIFO
            self.ctx.cgroup_parents.add(str(parent))
            self.ctx.journal.record("cgroup", path=str(parent))
        path = parent / f"node-{self.target}-{self.event.id}"
        self.cg_rid = self.ctx.journal.record("cgroup", path=str(path))
        path.mkdir(parents=True, exist_ok=True)
        self.cg = path
        return path

    def _move_node(self) -> list[int]:
        node = self.ctx.cluster.nodes[self.target]
        pids = [p.pid for p in psutil.process_iter() if _pgid(p.pid) == node.pid]
        for pid in pids:
            with contextlib.suppress(OSError):
                (self.cg / "cgroup.procs").write_text(str(pid))
        return pids

    def _stress(self, args: list[str]) -> None:
        exe = shutil.which("stress-ng")
        if exe is None:
            self.stress = None
            return
        cmd = (f"echo $$ > {self.cg / 'cgroup.procs'} && echo 1000 > /proc/self/oom_score_adj"
               f" && exec {exe} {' '.join(args)} --quiet")  # fmt: skip
        self.stress = subprocess.Popen(["sh", "-c", cmd], start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        self.stress_rid = self.ctx.journal.record("pgroup", pgid=self.stress.pid)

    def read(self, name: str) -> str:
        try:
            return (self.cg / name).read_text()
        except OSError:
            return ""

    async def stop(self) -> None:
        if getattr(self, "stress", None) is not None:
            self.ctx.journal.release(self.stress_rid)
            await asyncio.to_thread(self.stress.wait)  # type: ignore[union-attr]
        if hasattr(self, "cg_rid"):
            await asyncio.to_thread(self.ctx.journal.release, self.cg_rid)


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except OSError:
        return -1


class MemoryPressureFault(_CgroupFault):
    controller = "memory"

    async def start(self) -> None:
        self._make_cgroup()
        # pages already allocated stay charged where they were (move_charge_at_immigrate is
        # refused by kernels >= 6.x), so the ceiling is what the cgroup holds + headroom: every
        # new allocation of the node and of stress-ng shares the headroom
        with contextlib.suppress(OSError):
            (self.cg / "memory.move_charge_at_immigrate").write_text("3")
        self.pids = self._move_node()
        usage = int(self.read("memory.usage_in_bytes") or 0)
        self.limit = usage + int(self.params["headroom_mib"]) * MIB
        (self.cg / "memory.limit_in_bytes").write_text(str(self.limit))
        self._stress(["--vm", "1", "--vm-bytes", f"{int(self.params['stress_mib'])}M",
                      "--vm-keep"])  # fmt: skip

    async def measure(self) -> Effect:
        with contextlib.suppress(WaitTimeout):  # stress-ng may still be allocating under load
            await wait_until(lambda: int(self.read("memory.failcnt") or 0) > 0, 5,
                             "memory ceiling hit", poll_s=0.05)  # fmt: skip
        peak = int(self.read("memory.max_usage_in_bytes") or 0)
        fails = int(self.read("memory.failcnt") or 0)
        return Effect(fails > 0 and peak <= self.limit,
                      f"ceiling {self.limit / MIB:.0f} MiB hit {fails} times, peak "
                      f"{peak / MIB:.1f} MiB", {"limit_bytes": self.limit, "peak_bytes": peak,
                                                 "failcnt": fails, "pids": self.pids})  # fmt: skip


class CpuStressFault(_CgroupFault):
    controller = "cpu"

    async def start(self) -> None:
        self._make_cgroup()
        period = 100_000
        (self.cg / "cpu.cfs_period_us").write_text(str(period))
        (self.cg / "cpu.cfs_quota_us").write_text(
            str(period * int(self.params["quota_pct"]) // 100)
        )
        self.pids = self._move_node()
        self.t0 = time.monotonic()
        self._stress(["--cpu", str(int(self.params["stressors"]))])

    async def measure(self) -> Effect:
        stat = dict(line.split() for line in self.read("cpu.stat").splitlines() if line.strip())
        thr, periods = int(stat.get("nr_throttled", 0)), int(stat.get("nr_periods", 0))
        return Effect(thr > 0, f"throttled in {thr} of {periods} CPU periods "
                      f"(quota {self.params['quota_pct']}% of one core)",
                      {"nr_throttled": thr, "nr_periods": periods,
                       "throttled_ms": int(stat.get("throttled_time", 0)) // 1_000_000})  # fmt: skip


def _device_of(path: Path) -> str | None:
    st = os.stat(path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    return f"{major}:{minor}" if Path(f"/sys/dev/block/{major}:{minor}").exists() else None


class IoBottleneckFault(_CgroupFault):
    """blkio write throttling of the node's datadir device; cgroup v1 throttles only I/O that
    is submitted by the task itself (direct or synchronous writes), which is measured."""

    controller = "blkio"

    async def start(self) -> None:
        self._make_cgroup()
        node = self.ctx.cluster.nodes[self.target]
        # a FUSE datadir (DiskFailure) is written by its daemon, onto the backing directory
        daemon = self.ctx.faulty_pids.get(self.target)
        where = node.datadir.with_name(node.datadir.name + ".backing") if daemon else node.datadir
        self.dev = _device_of(where)
        if self.dev is not None:
            bps = int(self.params["write_bps"])
            (self.cg / "blkio.throttle.write_bps_device").write_text(f"{self.dev} {bps}")
        self.pids = self._move_node()
        if daemon is not None:
            with contextlib.suppress(OSError):
                (self.cg / "cgroup.procs").write_text(str(daemon))
                self.pids.append(daemon)

    async def measure(self) -> Effect:
        if self.dev is None:
            return Effect(False, "the datadir is on no block device (tmpfs/overlay): nothing to "
                          "throttle", {"device": None})  # fmt: skip
        served = 0
        for line in self.read("blkio.throttle.io_service_bytes").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == self.dev and parts[1] == "Write":
                served = int(parts[2])
        return Effect(served > 0, f"{served} bytes written through the throttle on {self.dev} "
                      f"(limit {self.params['write_bps']} B/s)",
                      {"device": self.dev, "throttled_write_bytes": served})  # fmt: skip


class DiskSpaceExhaustionFault(Mechanism):
    """Fills the producer's datadir tmpfs (mounted at launch, ``tmpfs_mib``) to ENOSPC; the
    effect is the node's own disk-full error on a block production request."""

    name = "tmpfs"

    @classmethod
    def unavailable(cls) -> str | None:
        return None if _is_root() else "needs root to mount a size-limited tmpfs"

    async def start(self) -> None:
        node = self.ctx.cluster.nodes[self.target]
        if not os.path.ismount(node.datadir):  # noqa: ASYNC240 - one stat of a mount point
            raise RuntimeError(f"node-{self.target} datadir is not on a tmpfs")
        self.filler = node.datadir / "chaos-filler"
        self.errors0 = len(self.ctx.produce_errors)
        await asyncio.to_thread(_fill, self.filler)
        st = os.statvfs(node.datadir)
        self.free = st.f_bavail * st.f_frsize

    async def measure(self) -> Effect:
        errs = [e for _, e in self.ctx.produce_errors[self.errors0 :] if "disk full" in e]
        return Effect(bool(errs), f"{len(errs)} block productions refused "
                      f"({errs[0][:90] if errs else 'no disk-full error'}); {self.free} B free",
                      {"disk_full_errors": len(errs), "free_bytes": self.free,
                       "first_error": errs[0] if errs else None})  # fmt: skip

    async def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.filler.unlink()


def _fill(path: Path) -> None:
    chunk = b"\0" * MIB
    with contextlib.suppress(OSError), open(path, "wb") as fh:
        while True:
            fh.write(chunk)
            fh.flush()
    with contextlib.suppress(OSError), open(path, "ab") as fh:  # the last partial MiB
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


class DiskFailureFault(Mechanism):
    """Read/write errors: the target's datadir is a FUSE passthrough from launch
    (``faulty_fs``, mounted by ``mount_faulty``); the fault makes it fail a share of writes
    with EIO. The injected errors are counted by the filesystem; the effect on the node is its
    head falling behind the producer's while its store writes fail."""

    name = "fuse-passthrough"

    @classmethod
    def unavailable(cls) -> str | None:
        if not _is_root():
            return "needs root to mount a FUSE passthrough (run as root, as CI does)"
        return binding_unavailable()

    def _ctl(self) -> Path:
        ctl = self.ctx.faulty.get(self.target)
        if ctl is None:
            raise RuntimeError(f"node-{self.target} datadir is not on the FUSE passthrough")
        return ctl

    async def _lag(self) -> int | None:
        p, t = await head(self.ctx, self.ctx.producer), await head(self.ctx, self.target)
        return None if p is None or t is None else p - t

    async def start(self) -> None:
        ctl = self._ctl()
        self.stats0 = _stats(ctl)
        self.lag0 = await self._lag()
        rate = float(self.params["write_error_rate"])
        seed = f"{self.ctx.run_tag}:{self.event.id}"
        await asyncio.to_thread(_set_ctl, ctl, {"write": rate, "seed": seed})

    async def measure(self) -> Effect:
        ctl = self._ctl()
        lag1 = await self._lag()
        now = _stats(ctl)
        errs = now.get("write_errors", 0) - self.stats0.get("write_errors", 0)
        writes = now.get("writes", 0) - self.stats0.get("writes", 0)
        grew = self.lag0 is not None and lag1 is not None and lag1 > self.lag0
        return Effect(errs > 0 and grew,
                      f"{errs} of {writes} writes failed with EIO on node-{self.target}'s datadir "
                      f"(injected {self.params['write_error_rate']:.0%}); it lags the producer "
                      f"by {lag1} blocks (by {self.lag0} before)",
                      {"write_errors": errs, "writes": writes, "lag_before": self.lag0,
                       "lag_after": lag1})  # fmt: skip

    async def stop(self) -> None:
        ctl = self.ctx.faulty.get(self.target)
        if ctl is None:
            return
        await asyncio.to_thread(_set_ctl, ctl, {"write": 0.0})
        with contextlib.suppress(WaitTimeout):  # the daemon applies the control file at once
            await wait_until(lambda: _stats(ctl).get("write_p") == 0.0, 5,
                             "FUSE passthrough faithful again", poll_s=0.05)  # fmt: skip


def _set_ctl(ctl: Path, d: dict[str, object]) -> None:
    tmp = ctl.with_suffix(".tmp")
    tmp.write_text(json.dumps(d))
    os.replace(tmp, ctl)


def _stats(ctl: Path) -> dict[str, float]:
    try:
        return dict(json.loads(Path(str(ctl) + ".stats").read_text()))
    except (OSError, ValueError):
        return {}


def _spawn_faulty(backing: Path, mount: Path, ctl: Path, log: Path) -> subprocess.Popen[bytes]:
    """The daemon runs as a script (no package import: it mounts in well under a second)."""
    with open(log, "wb") as err:
        return subprocess.Popen([sys.executable, faulty_fs.__file__, str(backing), str(mount),
                                 str(ctl)], start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=err)  # fmt: skip


async def mount_faulty(ctx: ChaosContext, i: int, datadir: Path, stall_s: float = 30.0) -> None:
    """Mount the FUSE passthrough on ``datadir`` (backing ``datadir.backing``) before node ``i``
    starts; journal first (rule 3 of ``faulty_fs``), then wait for the mount."""
    backing = datadir.with_name(datadir.name + ".backing")
    backing.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    datadir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    ctl = ctx.workdir / f"faulty-node-{i}.ctl"
    _set_ctl(ctl, {"write": 0.0})
    ctx.journal.record("mount", path=str(datadir))
    proc = _spawn_faulty(backing, datadir, ctl, ctx.workdir / f"faulty-node-{i}.log")
    ctx.journal.record("pgroup", pgid=proc.pid)
    await wait_until(lambda: os.path.ismount(datadir) or proc.poll() is not None, stall_s,
                     f"FUSE passthrough mounted on {datadir}", poll_s=0.05)  # fmt: skip
    if not os.path.ismount(datadir):  # noqa: ASYNC240
        raise RuntimeError(f"FUSE passthrough on {datadir} exited {proc.returncode}; "
                           f"see {ctx.workdir / f'faulty-node-{i}.log'}")  # fmt: skip
    ctx.faulty[i] = ctl
    ctx.faulty_pids[i] = proc.pid
