"""NodeCluster: N real node processes on loopback, linked through a FaultProxy.

Why processes and not in-process nodes: kill -9, SIGSTOP and restart from disk are the faults
sync must survive, and they only exist for processes. Any binary a node profile describes can
be launched (``command`` template, ``{python}`` = this interpreter).

Teardown is guaranteed in layers: every node runs in its own process group (killpg reaches its
children), with PR_SET_PDEATHSIG on Linux (dies if we are SIGKILLed), a watchdog and an
``atexit`` hook (``reaper``), and ``close()`` from ``finally`` / ``async with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from ...events import EventSink
from ...waiting import wait_for_progress, wait_until
from .errors import ClusterError
from .fault_proxy import FaultProxy
from .node_process import NodeProcess
from .observe import observed_peers
from .profiles import REFERENCE, NodeProfile
from .rpc_client import RpcError, RpcUnavailable

PROXY_HOST = "127.0.0.2"
PROXY_SOURCE_HOST = "127.0.0.3"
DEFAULT_STALL_S = 15.0
STALL_LOG_EVENTS = 3  # range events of a node's log quoted in a stall message


@dataclass
class NodeCluster:
    """Launches, links and tears down node processes; see module docstring."""

    command: Sequence[str] | None = None  # default: the profile's command
    workdir: Path | None = None
    events: EventSink | None = None
    seed: int = 0
    profile: NodeProfile = REFERENCE
    startup_timeout_s: float = 60.0
    stall_s: float = DEFAULT_STALL_S
    nodes: list[NodeProcess] = field(default_factory=list)
    proxy: FaultProxy | None = None
    recorder: Any = None  # the test's HistoryRecorder, when the cluster is recorded
    checker_bounds: Any = None  # bounds the test measured in its run (override the declared)

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

    @property
    def root(self) -> Path:
        assert self.workdir is not None
        return self.workdir

    # -- launching --------------------------------------------------------------------------
    async def add_node(self, args: Sequence[str] = (), datadir: Path | None = None) -> NodeProcess:
        """Start one more node; returns once it printed its ready line (ports bound)."""
        index = len(self.nodes)
        node = NodeProcess(
            index=index,
            datadir=datadir or self.root / f"node-{index}",
            log_path=self.root / f"node-{index}.log",
            args=list(args),
            profile=self.profile,
            command=self.command,
        )
        node.observers = {"admin_peers": lambda: observed_peers(self, index)}
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
        await node.start(fixed_ports=fixed_ports, startup_timeout_s=self.startup_timeout_s)
        if self.proxy is not None:
            self.proxy.set_target(node.index, ("127.0.0.1", node.p2p_port))
        self._emit("node_started", node, argv=node.argv, starts=node.starts)

    # -- links ------------------------------------------------------------------------------
    async def connect(self, src: int, dst: int) -> str:
        """Make node ``src`` dial node ``dst`` through the proxy link (src -> dst).

        A profile without an add-peer RPC (the real Alys node) only dials peers given at start:
        then ``src`` is restarted on its datadir with one more bootnode flag.
        """
        addr = await self.proxy_address(src, dst)
        node = self.nodes[src]
        self._peers.setdefault(src, set()).add(dst)
        if node.profile.supports("admin_addPeer"):
            await node.call("admin_addPeer", addr)
        else:
            node.args += [node.profile.flag("bootnode"), addr]
            await self.restart(src, kill=False)
        return addr

    async def connect_pairs(self, pairs: Sequence[tuple[int, int]]) -> None:
        for a, b in pairs:
            await self.connect(a, b)

    async def connect_full_mesh(self, indices: Sequence[int] | None = None) -> None:
        idx = list(range(len(self.nodes))) if indices is None else list(indices)
        await self.connect_pairs([(a, b) for i, a in enumerate(idx) for b in idx[i + 1 :]])

    async def proxy_address(self, src: int, dst: int) -> str:
        """The proxy address for (src -> dst), e.g. to pass as a bootnode before src starts."""
        assert self.proxy is not None
        await self.proxy.add_link(src, dst, ("127.0.0.1", self.nodes[dst].p2p_port))
        return self.proxy.address(src, dst)

    # -- process control ----------------------------------------------------------------------
    async def kill(self, i: int) -> None:
        """SIGKILL: no chance to flush anything, the crash-consistency fault."""
        node = self.nodes[i]
        await node.kill()
        if self.proxy is not None:
            self.proxy.reset_node(i)  # what was in flight to or from it dies with it
        self._emit("node_killed", node)

    async def stop(self, i: int, timeout_s: float = 10.0) -> int | None:
        """SIGTERM and wait (graceful shutdown); SIGKILL if it does not exit in time."""
        node = self.nodes[i]
        code = await node.terminate(timeout_s)
        self._emit("node_stopped", node, code=code)
        return code

    async def pause(self, i: int) -> None:
        node = self.nodes[i]
        node.signal_group(signal.SIGSTOP)
        node.state = "paused"
        await self._wait_status(node, stopped=True)
        self._emit("node_paused", node)

    async def resume(self, i: int) -> None:
        node = self.nodes[i]
        node.signal_group(signal.SIGCONT)
        node.state = "running"
        await self._wait_status(node, stopped=False)
        self._emit("node_resumed", node)

    async def restart(self, i: int, args: Sequence[str] | None = None, kill: bool = True) -> None:
        """Kill (or stop) and start again on the same datadir and, if free, the same ports."""
        node = self.nodes[i]
        if node.running:
            await (self.kill(i) if kill else self.stop(i))
        if args is not None:
            node.args = list(args)
        try:
            await self._launch(node, fixed_ports=True)
        except ClusterError:
            await self._launch(node, fixed_ports=False)  # old port still taken: take a new one
        if node.profile.supports("admin_addPeer"):  # bootnode flags re-dial by themselves
            for dst in sorted(self._peers.get(i, ())):
                with contextlib.suppress(RpcError, RpcUnavailable):
                    await node.call("admin_addPeer", await self.proxy_address(i, dst))

    async def _wait_status(self, node: NodeProcess, stopped: bool, timeout_s: float = 5.0) -> None:
        """Signals are asynchronous: return only once the kernel reports the new state."""

        def status() -> str:
            try:
                return str(psutil.Process(node.pid).status())
            except psutil.Error:
                return "gone"

        def reached() -> bool:
            s = status()
            return s == "gone" or (s == psutil.STATUS_STOPPED) == stopped

        await wait_until(
            reached, timeout_s, f"{node.name} {'stopped' if stopped else 'running'}",
            observe=status, poll_s=0.01,
        )  # fmt: skip

    # -- observing --------------------------------------------------------------------------
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
        """Barrier: every listed node reports the same head at or above ``min_height``.

        A wait for progress: it fails as soon as no listed head moved for ``stall_s``, naming
        the heads and peers, instead of running into ``timeout_s``.
        """
        idx = list(indices) if indices is not None else self.live_indices()

        def same(hs: dict[int, Any]) -> bool:
            vals = set(hs.values())
            return len(vals) == 1 and all(isinstance(v, tuple) and v[0] >= min_height for v in vals)

        t0 = time.monotonic()
        what = f"heads in sync at height >= {min_height:,} on nodes {idx}"
        hs = await wait_for_progress(
            lambda: self.heads(idx), same, what,
            stall_s=self.stall_s, timeout_s=timeout_s, context=lambda: self.peer_context(idx),
            rule="S5",
        )  # fmt: skip
        return time.monotonic() - t0, next(iter(hs.values()))

    async def peer_context(self, indices: Sequence[int]) -> str:
        """Who each node is peered with and its last logged range requests (for stall
        messages), as far as the profile and the node's log tell."""
        parts = []
        for i in indices:
            node = self.nodes[i]
            if not node.profile.supports("admin_peers"):
                parts.append(f"{node.name}: peers not observable in profile {node.profile.name}")
                continue
            try:
                peers = await node.call("admin_peers", timeout_s=2)
                desc = [f"{p.get('addr')} head {p.get('head')}" for p in peers]
                parts.append(f"{node.name} peers: {desc or 'none'}")
            except (RpcUnavailable, RpcError) as exc:
                parts.append(f"{node.name}: {exc}")
            ranges = [e for e in node.log_events() if "range" in str(e.get("msg", ""))]
            if ranges:
                last = [
                    f"{e.get('msg')} {e.get('start', '')} from {e.get('peer', '?')}"
                    for e in ranges[-STALL_LOG_EVENTS:]
                ]
                parts.append(f"{node.name} last requests: {last}")
        return "; ".join(parts)

    def live_indices(self) -> list[int]:
        return [n.index for n in self.nodes if n.state in ("running", "paused")]

    # -- logs -------------------------------------------------------------------------------
    def log_tail(self, node: NodeProcess, n: int = 20) -> list[str]:
        return node.log_tail(n)

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
                type_, f"cluster:{self.root.name}", node=node.name, pid=node.pid, **meta
            )

    # -- teardown ---------------------------------------------------------------------------
    async def close(self, graceful_s: float = 3.0) -> None:
        """Stop every node (TERM, then KILL), the proxy, and remove a temp workdir we made."""
        try:
            live = [n for n in self.nodes if n.running]
            codes = await asyncio.gather(
                *(n.terminate(graceful_s) for n in live), return_exceptions=True
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
                n.kill_now()
                if n.state in ("running", "paused"):
                    n.state = "stopped"
            if self.proxy is not None:
                await self.proxy.close()
            if self._own_workdir and not os.environ.get("ALYS_KEEP_CLUSTER"):
                shutil.rmtree(self.root, ignore_errors=True)

    async def __aenter__(self) -> NodeCluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
