"""NodeProcess: one node binary as a process, started from its profile and torn down for sure.

The one launcher of the project: the cluster harnesses, the node tests and the sync benchmark
all start nodes through it, so the ready line is parsed in one place (the profile's) and every
start is matched by a kill of the whole process group.

Why a process group, PR_SET_PDEATHSIG and a watchdog (``reaper``): a node may start children
(verification workers); SIGKILL of the node alone would orphan them, and a SIGKILL of *us*
runs no ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .errors import ClusterError
from .profiles import REFERENCE, NodeProfile, ProfileUnsupported, parse_metrics
from .reaper import Watchdog, die_with_parent
from .rpc_client import RpcClient, RpcUnavailable


def expand_command(template: Sequence[str]) -> list[str]:
    """``{python}`` is this interpreter, so ``-m`` modules run in the same environment."""
    return [sys.executable if part == "{python}" else part for part in template]


@dataclass
class NodeProcess:
    index: int
    datadir: Path
    log_path: Path
    args: list[str] = field(default_factory=list)
    profile: NodeProfile = REFERENCE
    command: Sequence[str] | None = None  # default: the profile's
    name_: str | None = None
    proc: asyncio.subprocess.Process | None = None
    p2p_port: int = 0
    rpc_port: int = 0
    pid: int = 0
    state: str = "new"  # running / paused / killed / stopped
    rpc: RpcClient | None = None
    starts: int = 0
    argv: list[str] = field(default_factory=list)
    # canonical method -> measurement standing in for it (profile rule 4), set by the cluster
    observers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    _stdout_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.name_ or f"node-{self.index}"

    @property
    def p2p_addr(self) -> str:
        return f"127.0.0.1:{self.p2p_port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    # -- starting ---------------------------------------------------------------------------
    def build_argv(self, fixed_ports: bool = False) -> list[str]:
        p2p, rpc = (self.p2p_port, self.rpc_port) if fixed_ports else (0, 0)
        base = expand_command(self.command or self.profile.command)
        return base + self.profile.launch_args(str(self.datadir), p2p, rpc) + list(self.args)

    async def start(self, fixed_ports: bool = False, startup_timeout_s: float = 60.0) -> None:
        """Start and return once the node printed its ready line (both listeners bound)."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.argv = argv = self.build_argv(fixed_ports)
        log = open(self.log_path, "ab")  # noqa: ASYNC230, SIM115 - handed to the child
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise ClusterError(f"{self.name}: cannot execute {argv[0]!r}: {exc}") from None
        finally:
            log.close()
        self.proc, self.pid = proc, proc.pid
        Watchdog.track(proc.pid)
        self.starts += 1
        try:
            ports = await asyncio.wait_for(self._read_ready(), startup_timeout_s)
        except TimeoutError:
            await self.kill()
            raise ClusterError(
                f"{self.name}: no ready line within {startup_timeout_s:g} s; "
                f"log tail: {self.log_tail(5)}"
            ) from None
        except ClusterError:
            await self.kill()
            raise
        self.p2p_port, self.rpc_port = ports
        self.state = "running"
        if self.rpc is not None:
            await self.rpc.close()
        self.rpc = RpcClient(f"http://127.0.0.1:{self.rpc_port}/", self.name)
        self._stdout_task = asyncio.ensure_future(self._drain_stdout())

    async def _read_ready(self) -> tuple[int, int]:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                code = await self.proc.wait()
                raise ClusterError(
                    f"{self.name}: exited with code {code} before ready; "
                    f"log tail: {self.log_tail(5)}"
                )
            ports = self.profile.parse_ready(line)
            if ports is not None:
                return ports

    async def _drain_stdout(self) -> None:
        """Keep the stdout pipe empty so a chatty node never blocks on a full pipe."""
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        with contextlib.suppress(Exception):
            while await proc.stdout.readline():
                pass

    # -- talking ----------------------------------------------------------------------------
    async def call(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """Call a canonical method (docs/NODE_API.md) through the profile's mapping, or its
        measurement when the profile observes rather than serves it."""
        if self.profile.observes(method):
            observer = self.observers.get(method)
            if observer is None:
                raise ProfileUnsupported(
                    self.profile.name, method, "measured only for nodes of a NodeCluster"
                )
            value = observer(*params)
            return await value if inspect.isawaitable(value) else value
        node_method, normalise = self.profile.method(method)
        args = self.profile.adapt_params(method, params)
        return normalise(await self.call_raw(node_method, *args, timeout_s=timeout_s))

    async def call_raw(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """Call the node's own method name, bypassing the profile (tests of the node's API)."""
        if self.rpc is None:
            raise RpcUnavailable(f"{self.name}: not running")
        return await self.rpc.call(method, *params, timeout_s=timeout_s)

    async def metrics(self, timeout_s: float = 5.0) -> dict[str, float]:
        """The node's ``/metrics`` (Prometheus text) parsed to {name: value}."""
        url = f"http://127.0.0.1:{self.rpc_port}/metrics"
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp,
            ):
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RpcUnavailable(f"{self.name}: /metrics unreachable: {exc}") from None
        return parse_metrics(text)

    async def metric(self, logical: str) -> float | None:
        return (await self.metrics()).get(self.profile.metric_name(logical))

    async def height(self) -> int:
        """The head height: from RPC when the profile maps it, else from ``/metrics``."""
        if self.profile.supports("chain_head"):
            return int((await self.call("chain_head", timeout_s=5))["height"])
        value = await self.metric("head_height")
        if value is None:
            raise RpcUnavailable(f"{self.name}: /metrics has no head height")
        return int(value)

    # -- stopping ---------------------------------------------------------------------------
    def signal_group(self, sig: int) -> None:
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def kill(self) -> int | None:
        """SIGKILL the whole group: no chance to flush anything (the crash fault)."""
        self.signal_group(signal.SIGKILL)
        code = await self.reap(10.0)
        self.state = "killed"
        return code

    async def terminate(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM and wait (graceful shutdown); SIGKILL if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.signal_group(signal.SIGTERM)
            self.signal_group(signal.SIGCONT)  # a paused node must run to handle TERM
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                self.signal_group(signal.SIGKILL)
        code = await self.reap(10.0)
        self.state = "stopped"
        return code

    async def wait_exit(self, timeout_s: float) -> int | None:
        """Wait for the node to exit by itself (e.g. after node_shutdown); then reap it."""
        if self.proc is None:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), timeout_s)
        if self.proc.returncode is None:
            return None
        code = await self.reap(1.0)
        self.state = "stopped"
        return code

    async def reap(self, timeout_s: float) -> int | None:
        code = None
        if self.proc is not None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self.proc.wait(), timeout_s)
            # the group may hold grandchildren even after the leader exited
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.pid:
            Watchdog.untrack(self.pid)
        if self._stdout_task is not None:
            self._stdout_task.cancel()
            with contextlib.suppress(BaseException):
                await self._stdout_task
            self._stdout_task = None
        if self.rpc is not None:
            await self.rpc.close()
            self.rpc = None
        return code

    def kill_now(self) -> None:
        """Synchronous last resort (teardown paths that cannot await)."""
        if self.running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            Watchdog.untrack(self.pid)

    # -- logs -------------------------------------------------------------------------------
    def log_tail(self, n: int = 20) -> list[str]:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return lines[-n:]

    def log_events(self) -> list[dict[str, Any]]:
        """The node's JSON log lines (``--log-json``), in order; other lines are skipped."""
        out = []
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        for line in lines:
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if isinstance(rec, dict):
                    out.append(rec)
        return out
