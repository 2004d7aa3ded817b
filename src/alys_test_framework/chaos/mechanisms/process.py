"""Process faults on a node: SIGKILL + restart from its datadir, SIGSTOP/SIGCONT, and clock
skew (the node restarted under libfaketime with ``FAKETIME=+Ns``; the monotonic clock stays
real so timers keep working, only the wall clock the node stamps blocks with moves)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psutil

from ...targets.cluster import RpcError, RpcUnavailable
from .base import Effect, Mechanism, connected, delays_during, head, median

FAKETIME_LIBS = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
)


async def _reachable(ctx: object, i: int) -> bool:
    try:
        await ctx.cluster.nodes[i].call("chain_head", timeout_s=1)  # type: ignore[attr-defined]
    except (RpcError, RpcUnavailable, TimeoutError):
        return False
    return True


class CrashFault(Mechanism):
    name = "SIGKILL"

    async def start(self) -> None:
        node = self.ctx.cluster.nodes[self.target]
        self.pid = node.pid
        self.head_before = await head(self.ctx, self.target)
        await self.ctx.cluster.kill(self.target)

    async def measure(self) -> Effect:
        alive = psutil.pid_exists(self.pid) and psutil.Process(self.pid).status() != "zombie"
        up = await _reachable(self.ctx, self.target)
        return Effect(not alive and not up, f"pid {self.pid} gone: {not alive}; RPC answers: {up}",
                      {"pid": self.pid, "pid_alive": alive, "rpc_up": up,
                       "head_before": self.head_before})  # fmt: skip

    async def stop(self) -> None:
        await self.ctx.cluster.restart(self.target)


class PauseFault(Mechanism):
    name = "SIGSTOP"

    async def start(self) -> None:
        await self.ctx.cluster.pause(self.target)

    async def measure(self) -> Effect:
        node = self.ctx.cluster.nodes[self.target]
        try:
            status = psutil.Process(node.pid).status()
        except psutil.Error:
            status = "gone"
        up = await _reachable(self.ctx, self.target)
        return Effect(status == psutil.STATUS_STOPPED and not up,
                      f"process state {status}; RPC answers: {up}",
                      {"status": status, "rpc_up": up})  # fmt: skip

    async def stop(self) -> None:
        await self.ctx.cluster.resume(self.target)


def faketime_lib() -> str | None:
    return next((p for p in FAKETIME_LIBS if Path(p).exists()), None)


class ClockSkewFault(Mechanism):
    """Restarts the target (gracefully, same datadir) with its wall clock ``offset_s`` ahead."""

    name = "libfaketime"

    @classmethod
    def unavailable(cls) -> str | None:
        if faketime_lib() is None:
            return "libfaketime not found: apt-get install faketime"
        return None

    async def start(self) -> None:
        node = self.ctx.cluster.nodes[self.target]
        self.saved = node.command
        base = list(node.command or node.profile.command)
        off = float(self.params["offset_s"])
        env = shutil.which("env") or "/usr/bin/env"
        node.command = [env, f"LD_PRELOAD={faketime_lib()}", f"FAKETIME={off:+g}s",
                        "FAKETIME_DONT_FAKE_MONOTONIC=1", *base]  # fmt: skip
        await self.ctx.cluster.restart(self.target, kill=False)
        self.env_seen = _environ_has(node.pid, "FAKETIME")
        self.since = time.time()  # blocks produced from now on are stamped under the skew
        self.h_restart = await head(self.ctx, self.target)
        await connected(self.ctx, self.target)

    async def measure(self) -> Effect:
        ctx = self.ctx
        lo = (self.h_restart or 0) + 1
        d = median(await delays_during(ctx, self.target, self.since, lo, wait_s=8.0))
        base = ctx.baseline_delay_s.get(self.target, 0.0)
        off = float(self.params["offset_s"])
        if d is None:
            return Effect(False, f"no block imported by node-{self.target} under the skew",
                          {"faketime_env": self.env_seen})  # fmt: skip
        seen = d - base
        return Effect(abs(seen - off) <= 0.25 * off + 1.0,
                      f"node-{self.target} stamps blocks {seen:+.2f} s off the producer "
                      f"(skew injected {off:+g} s)",
                      {"offset_seen_s": round(seen, 3), "offset_injected_s": off,
                       "faketime_env": self.env_seen})  # fmt: skip

    async def stop(self) -> None:
        node = self.ctx.cluster.nodes[self.target]
        node.command = self.saved
        await self.ctx.cluster.restart(self.target, kill=False)


def _environ_has(pid: int, key: str) -> bool:
    try:
        return f"{key}=".encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


__all__ = ["ClockSkewFault", "CrashFault", "PauseFault", "faketime_lib"]
