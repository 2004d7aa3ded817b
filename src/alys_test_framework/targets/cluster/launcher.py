"""NodeCluster: N real node processes on loopback, linked through a FaultProxy.

Why processes and not in-process nodes: kill -9, SIGSTOP and restart from disk are the faults
sync must survive, and they only exist for processes. Any binary honouring the node CLI and RPC
contract can be launched (``command`` template, ``{python}`` = this interpreter).

Teardown is guaranteed in layers: every node runs in its own process group (killpg reaches its
children), with PR_SET_PDEATHSIG on Linux (dies if we are SIGKILLed), an ``atexit`` hook, and
``close()`` from ``finally`` / ``async with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from ...events import EventSink
from .fault_proxy import FaultProxy
from .reaper import LIVE_GROUPS, Watchdog, die_with_parent
from .rpc_client import RpcClient, RpcError, RpcUnavailable

PROXY_HOST = "127.0.0.2"
PROXY_SOURCE_HOST = "127.0.0.3"


class ClusterError(RuntimeError):
    """A node could not be started or driven; the message says which and why."""


class ClusterTimeout(ClusterError):
    """A waited-for condition did not hold in time; the message shows the last observation."""


@dataclass
class NodeProcess:
    index: int
    datadir: Path
    log_path: Path
    args: list[str]
    proc: asyncio.subprocess.Process | None = None
    p2p_port: int = 0
    rpc_port: int = 0
    pid: int = 0
    state: str = "new"  # running / paused / killed / stopped
    rpc: RpcClient | None = None
    starts: int = 0
    _stdout_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    @property
    def p2p_addr(self) -> str:
        return f"127.0.0.1:{self.p2p_port}"

    async def call(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        if self.rpc is None:
            raise RpcUnavailable(f"{self.name}: not running")
        return await self.rpc.call(method, *params, timeout_s=timeout_s)


@dataclass
class Observation:
    ok: bool
    observed: Any = None


Predicate = Callable[[], Awaitable[bool | tuple[bool, Any] | Observation]]


@dataclass
class NodeCluster:
    """Launches, links and tears down node processes; see module docstring."""

    command: Sequence[str] = ("{python}", "-m", "alys_node")
    workdir: Path | None = None
    events: EventSink | None = None
    seed: int = 0
    startup_timeout_s: float = 60.0
    poll_interval_s: float = 0.1
    common_args: list[str] = field(default_factory=lambda: ["--log-json"])
    nodes: list[NodeProcess] = field(default_factory=list)
    proxy: FaultProxy | None = None

    def __post_init__(self) -> None:
        self._own_workdir = self.workdir is None
        base = (
            Path(tempfile.mkdtemp(prefix="alys-cluster-")) if self.workdir is None else self.workdir
        )
        self.workdir = base
        base.mkdir(parents=True, exist_ok=True)
        if self.proxy is None:
            # Nodes bind 127.0.0.1. The proxy listens on 127.0.0.2 and dials nodes from
            # 127.0.0.3, so an address a node learns about a peer through a proxied link
            # (observed IP + advertised listen port) is dead, and peer exchange cannot create
            # direct connections that would bypass the proxy's faults.
            self.proxy = FaultProxy(
                self.events,
                seed=self.seed,
                host=PROXY_HOST,
                source_host=PROXY_SOURCE_HOST,
                name=f"fault_proxy:{base.name}",
            )
        self._peers: dict[int, set[int]] = {}

    # -- launching --------------------------------------------------------------------------
    def _argv(self, node: NodeProcess, fixed_ports: bool) -> list[str]:
        argv = [sys.executable if part == "{python}" else part for part in self.command]
        p2p = node.p2p_port if fixed_ports else 0
        rpc = node.rpc_port if fixed_ports else 0
        argv += ["--datadir", str(node.datadir), "--p2p-port", str(p2p), "--rpc-port", str(rpc)]
        return argv + list(self.common_args) + list(node.args)

    async def add_node(self, args: Sequence[str] = (), datadir: Path | None = None) -> NodeProcess:
        """Start one more node; returns once it printed its ready line (ports bound)."""
        index = len(self.nodes)
        assert self.workdir is not None
        node = NodeProcess(
            index=index,
            datadir=datadir or self.workdir / f"node-{index}",
            log_path=self.workdir / f"node-{index}.log",
            args=list(args),
        )
        node.datadir.mkdir(parents=True, exist_ok=True)
        self.nodes.append(node)
        await self._launch(node, fixed_ports=False)
        return node

    async def start(
        self, n: int, args: Callable[[int], Sequence[str]] | Sequence[str] = ()
    ) -> None:
        """Start ``n`` nodes (sequentially: on 2 cores parallel starts only add contention)."""
        for i in range(n):
            await self.add_node(args(i) if callable(args) else args)

    async def _launch(self, node: NodeProcess, fixed_ports: bool) -> None:
        argv = self._argv(node, fixed_ports)
        log = open(node.log_path, "ab")  # noqa: ASYNC230, SIM115 - handed to the child
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
            raise ClusterError(f"{node.name}: cannot execute {argv[0]!r}: {exc}") from None
        finally:
            log.close()
        node.proc, node.pid = proc, proc.pid
        Watchdog.track(proc.pid)
        node.starts += 1
        try:
            ready = await asyncio.wait_for(self._read_ready(node), self.startup_timeout_s)
        except TimeoutError:
            await self._hard_kill(node)
            raise ClusterError(
                f"{node.name}: no ready line within {self.startup_timeout_s:g} s; "
                f"log tail: {self.log_tail(node, 5)}"
            ) from None
        except ClusterError:
            await self._hard_kill(node)
            raise
        node.p2p_port, node.rpc_port = int(ready["p2p_port"]), int(ready["rpc_port"])
        node.state = "running"
        if node.rpc is not None:
            await node.rpc.close()
        node.rpc = RpcClient(f"http://127.0.0.1:{node.rpc_port}/", node.name)
        node._stdout_task = asyncio.ensure_future(self._drain_stdout(node))
        if self.proxy is not None:
            self.proxy.set_target(node.index, ("127.0.0.1", node.p2p_port))
        self._emit("node_started", node, argv=argv, starts=node.starts)

    async def _read_ready(self, node: NodeProcess) -> dict[str, Any]:
        assert node.proc is not None and node.proc.stdout is not None
        while True:
            line = await node.proc.stdout.readline()
            if not line:
                code = await node.proc.wait()
                raise ClusterError(
                    f"{node.name}: exited with code {code} before ready; "
                    f"log tail: {self.log_tail(node, 5)}"
                )
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # stray output before the ready line
            if isinstance(msg, dict) and msg.get("event") == "ready":
                return msg

    async def _drain_stdout(self, node: NodeProcess) -> None:
        """Keep the stdout pipe empty so a chatty node never blocks on a full pipe."""
        proc = node.proc
        if proc is None or proc.stdout is None:
            return
        with contextlib.suppress(Exception):
            while await proc.stdout.readline():
                pass

    # -- links ------------------------------------------------------------------------------
    async def connect(self, src: int, dst: int) -> str:
        """Make node ``src`` dial node ``dst`` through the proxy link (src -> dst)."""
        assert self.proxy is not None
        target = ("127.0.0.1", self.nodes[dst].p2p_port)
        await self.proxy.add_link(src, dst, target)
        addr = self.proxy.address(src, dst)
        await self.nodes[src].call("admin_addPeer", addr)
        self._peers.setdefault(src, set()).add(dst)
        return addr

    async def connect_pairs(self, pairs: Sequence[tuple[int, int]]) -> None:
        for a, b in pairs:
            await self.connect(a, b)

    async def connect_full_mesh(self, indices: Sequence[int] | None = None) -> None:
        idx = list(range(len(self.nodes))) if indices is None else list(indices)
        await self.connect_pairs([(a, b) for i, a in enumerate(idx) for b in idx[i + 1 :]])

    async def proxy_address(self, src: int, dst: int) -> str:
        """The proxy address for (src -> dst), e.g. to pass as --bootnode before src starts."""
        assert self.proxy is not None
        await self.proxy.add_link(src, dst, ("127.0.0.1", self.nodes[dst].p2p_port))
        return self.proxy.address(src, dst)

    # -- process control ----------------------------------------------------------------------
    async def kill(self, i: int) -> None:
        """SIGKILL: no chance to flush anything, the crash-consistency fault."""
        node = self.nodes[i]
        await self._hard_kill(node)
        if self.proxy is not None:
            self.proxy.reset_node(i)  # what was in flight to or from it dies with it
        node.state = "killed"
        self._emit("node_killed", node)

    async def stop(self, i: int, timeout_s: float = 10.0) -> int | None:
        """SIGTERM and wait (graceful shutdown); SIGKILL if it does not exit in time."""
        node = self.nodes[i]
        code = await self._terminate(node, timeout_s)
        node.state = "stopped"
        self._emit("node_stopped", node, code=code)
        return code

    async def pause(self, i: int) -> None:
        node = self.nodes[i]
        self._signal_group(node, signal.SIGSTOP)
        node.state = "paused"
        await self._wait_status(node, stopped=True)
        self._emit("node_paused", node)

    async def resume(self, i: int) -> None:
        node = self.nodes[i]
        self._signal_group(node, signal.SIGCONT)
        node.state = "running"
        await self._wait_status(node, stopped=False)
        self._emit("node_resumed", node)

    async def restart(self, i: int, args: Sequence[str] | None = None, kill: bool = True) -> None:
        """Kill (or stop) and start again on the same datadir and, if free, the same ports."""
        node = self.nodes[i]
        if node.proc is not None and node.proc.returncode is None:
            await (self.kill(i) if kill else self.stop(i))
        if args is not None:
            node.args = list(args)
        try:
            await self._launch(node, fixed_ports=True)
        except ClusterError:
            await self._launch(node, fixed_ports=False)  # old port still taken: take a new one
        for dst in sorted(self._peers.get(i, ())):
            with contextlib.suppress(RpcError, RpcUnavailable):
                await self.connect(i, dst)

    async def _wait_status(self, node: NodeProcess, stopped: bool, timeout_s: float = 5.0) -> None:
        """Signals are asynchronous: return only once the kernel reports the new state."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                status = psutil.Process(node.pid).status()
            except psutil.Error:
                return
            if (status == psutil.STATUS_STOPPED) == stopped:
                return
            await asyncio.sleep(0.01)
        raise ClusterError(f"{node.name}: still {status} {timeout_s:g} s after the signal")

    def _signal_group(self, node: NodeProcess, sig: int) -> None:
        if node.proc is None or node.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(node.pid, sig)

    async def _hard_kill(self, node: NodeProcess) -> None:
        self._signal_group(node, signal.SIGKILL)
        await self._reap(node, 10.0)

    async def _terminate(self, node: NodeProcess, timeout_s: float) -> int | None:
        if node.proc is None:
            return None
        if node.proc.returncode is None:
            self._signal_group(node, signal.SIGTERM)
            self._signal_group(node, signal.SIGCONT)  # a paused node must run to handle TERM
            try:
                await asyncio.wait_for(node.proc.wait(), timeout_s)
            except TimeoutError:
                self._signal_group(node, signal.SIGKILL)
        return await self._reap(node, 10.0)

    async def _reap(self, node: NodeProcess, timeout_s: float) -> int | None:
        code = None
        if node.proc is not None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(node.proc.wait(), timeout_s)
            # the group may hold grandchildren even after the leader exited
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(node.pid, signal.SIGKILL)
        Watchdog.untrack(node.pid)
        if node._stdout_task is not None:
            node._stdout_task.cancel()
            with contextlib.suppress(BaseException):
                await node._stdout_task
            node._stdout_task = None
        if node.rpc is not None:
            await node.rpc.close()
            node.rpc = None
        return code

    # -- observing --------------------------------------------------------------------------
    async def wait_until(
        self, predicate: Predicate, timeout_s: float, description: str
    ) -> tuple[float, Any]:
        """Poll a real condition; on timeout raise naming it and its last observed value.

        Returns (seconds waited, last observation) so callers can report convergence times.
        """
        start = time.monotonic()
        observed: Any = None
        while True:
            try:
                res = await predicate()
            except (RpcUnavailable, RpcError) as exc:
                res = Observation(False, str(exc))
            if isinstance(res, Observation):
                ok, observed = res.ok, res.observed
            elif isinstance(res, tuple):
                ok, observed = bool(res[0]), res[1]
            else:
                ok, observed = bool(res), res
            waited = time.monotonic() - start
            if ok:
                return waited, observed
            if waited >= timeout_s:
                raise ClusterTimeout(
                    f"timed out after {timeout_s:g} s waiting for {description}; "
                    f"last observed: {_short(observed)}"
                )
            await asyncio.sleep(self.poll_interval_s)

    async def heads(self, indices: Sequence[int] | None = None) -> dict[int, Any]:
        """{index: (height, hash)} or an error string for nodes that did not answer."""
        idx = self.live_indices() if indices is None else list(indices)

        async def one(i: int) -> Any:
            try:
                h = await self.nodes[i].call("chain_head", timeout_s=5)
                return (int(h["height"]), h["hash"])
            except (RpcUnavailable, RpcError) as exc:
                return f"unreachable: {exc}"

        vals = await asyncio.gather(*(one(i) for i in idx))
        return dict(zip(idx, vals, strict=True))

    async def wait_heads_in_sync(
        self, timeout_s: float, indices: Sequence[int] | None = None, min_height: int = 0
    ) -> tuple[float, tuple[int, str]]:
        """Barrier: every listed node reports the same head at or above ``min_height``."""

        async def same() -> Observation:
            hs = await self.heads(indices)
            vals = set(hs.values())
            ok = len(vals) == 1 and all(isinstance(v, tuple) and v[0] >= min_height for v in vals)
            return Observation(ok, hs)

        what = f"heads in sync at height >= {min_height} on nodes {list(indices or self.live_indices())}"
        waited, hs = await self.wait_until(same, timeout_s, what)
        return waited, next(iter(hs.values()))

    def live_indices(self) -> list[int]:
        return [n.index for n in self.nodes if n.state in ("running", "paused")]

    # -- logs -------------------------------------------------------------------------------
    def log_tail(self, node: NodeProcess, n: int = 20) -> list[str]:
        try:
            lines = node.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return lines[-n:]

    def merged_logs(self, tail: int | None = 200) -> list[str]:
        """All node logs ordered by their own timestamps (non-JSON lines keep their position)."""
        entries: list[tuple[float, int, int, str]] = []
        for node in self.nodes:
            try:
                lines = node.log_path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            ts = 0.0
            for k, line in enumerate(lines):
                text = line
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    rec = json.loads(line)
                    ts = float(rec.get("ts", ts))
                    extra = {key: v for key, v in rec.items() if key not in ("ts", "level", "msg")}
                    text = f"{rec.get('level', '')} {rec.get('msg', '')} {json.dumps(extra) if extra else ''}".rstrip()
                stamp = time.strftime("%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}"
                entries.append((ts, node.index, k, f"{stamp} {node.name} {text}"))
        entries.sort()
        out = [e[3] for e in entries]
        return out[-tail:] if tail else out

    def _emit(self, type_: str, node: NodeProcess, **meta: Any) -> None:
        if self.events is not None:
            self.events.emit(
                type_, f"cluster:{self.workdir.name}", node=node.name, pid=node.pid, **meta
            )

    # -- teardown ---------------------------------------------------------------------------
    async def close(self, graceful_s: float = 3.0) -> None:
        """Stop every node (TERM, then KILL), the proxy, and remove a temp workdir we made."""
        try:
            live = [n for n in self.nodes if n.proc is not None and n.proc.returncode is None]
            codes = await asyncio.gather(
                *(self._terminate(n, graceful_s) for n in live), return_exceptions=True
            )
            for node, code in zip(live, codes, strict=True):  # every start gets its end event
                self._emit(
                    "node_stopped",
                    node,
                    code=code if isinstance(code, int) else _short(code),
                    reason="teardown",
                )
        finally:
            for n in self.nodes:  # whatever happened above, nothing survives
                if n.proc is not None:
                    self._signal_group(n, signal.SIGKILL)
                    if n.pid in LIVE_GROUPS:
                        Watchdog.untrack(n.pid)
                if n.state in ("running", "paused"):
                    n.state = "stopped"
            if self.proxy is not None:
                await self.proxy.close()
            if (
                self._own_workdir
                and self.workdir is not None
                and not os.environ.get("ALYS_KEEP_CLUSTER")
            ):
                shutil.rmtree(self.workdir, ignore_errors=True)

    async def __aenter__(self) -> NodeCluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
