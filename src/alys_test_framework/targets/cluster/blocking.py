"""NodeProcess for synchronous callers (plain pytest tests, benchmark scripts).

Why a loop thread and not a second launcher: the ready-line parsing, process-group teardown and
watchdog of ``NodeProcess`` must exist once. A blocking caller gets the same object driven by
an event loop in a background thread; every method forwards to it and waits for the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import psutil

from .node_process import NodeProcess
from .profiles import REFERENCE, NodeProfile
from .rpc_client import RpcError

T = TypeVar("T")


class LoopThread:
    """One asyncio loop in a daemon thread; ``run(coro)`` blocks until the coroutine is done."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BlockingNode:
    """A ``NodeProcess`` with blocking methods; ``rpc`` returns the result or raises RpcError."""

    def __init__(
        self,
        loop: LoopThread,
        name: str,
        datadir: Path,
        args: list[str],
        log_path: Path,
        profile: NodeProfile = REFERENCE,
        startup_timeout_s: float = 60.0,
    ) -> None:
        self.loop = loop
        self.node = NodeProcess(
            index=0, datadir=datadir, log_path=log_path, args=args, profile=profile, name_=name
        )
        self.startup_timeout_s = startup_timeout_s

    # the NodeProcess view a test reads
    @property
    def name(self) -> str:
        return self.node.name

    @property
    def datadir(self) -> Path:
        return self.node.datadir

    @property
    def args(self) -> list[str]:
        return self.node.args

    @args.setter
    def args(self, value: list[str]) -> None:
        self.node.args = value

    @property
    def p2p_port(self) -> int:
        return self.node.p2p_port

    @property
    def rpc_port(self) -> int:
        return self.node.rpc_port

    @property
    def addr(self) -> str:
        return self.node.p2p_addr

    def start(self, fixed_ports: bool = False) -> BlockingNode:
        self.loop.run(self.node.start(fixed_ports, self.startup_timeout_s))
        return self

    def rpc(self, method: str, *params: Any, timeout_s: float = 60.0) -> Any:
        """The node's own method (no profile mapping): tests of the node's API use its names."""
        return self.loop.run(self.node.call_raw(method, *params, timeout_s=timeout_s))

    def call(self, method: str, *params: Any, timeout_s: float = 60.0) -> dict[str, Any]:
        """Like ``rpc`` but returns the JSON-RPC envelope: ``{"result"}`` or ``{"error"}``."""
        try:
            return {"result": self.rpc(method, *params, timeout_s=timeout_s)}
        except RpcError as exc:
            return {"error": {"code": exc.code, "message": exc.rpc_message}}

    def call_profile(self, method: str, *params: Any, timeout_s: float = 60.0) -> Any:
        """A canonical method through the node's profile (as the harnesses call it)."""
        return self.loop.run(self.node.call(method, *params, timeout_s=timeout_s))

    @property
    def proc(self) -> ProcessView:
        return ProcessView(self)

    def height(self) -> int:
        return self.loop.run(self.node.height())

    def metrics(self) -> dict[str, float]:
        return self.loop.run(self.node.metrics())

    def kill(self) -> int | None:
        return self.loop.run(self.node.kill())

    def terminate(self, timeout_s: float = 10.0) -> int | None:
        return self.loop.run(self.node.terminate(timeout_s))

    def wait_exit(self, timeout_s: float) -> int | None:
        return self.loop.run(self.node.wait_exit(timeout_s))

    def poll(self) -> int | None:
        """None while the node runs, else its exit code (as ``Popen.poll``)."""
        return self.loop.run(self._poll())

    async def _poll(self) -> int | None:
        proc = self.node.proc
        return None if proc is None or proc.returncode is None else proc.returncode

    def cpu_s(self) -> float:
        """CPU seconds of the node and its children (verification workers) so far."""
        proc = psutil.Process(self.node.pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total

    def log_tail(self, n: int = 15) -> str:
        return "\n".join(self.node.log_tail(n))

    def log_events(self) -> list[dict[str, Any]]:
        return self.node.log_events()


class ProcessView:
    """The ``subprocess.Popen`` subset node tests read (poll, returncode, pid)."""

    def __init__(self, node: BlockingNode) -> None:
        self._node = node

    @property
    def pid(self) -> int:
        return self._node.node.pid

    @property
    def returncode(self) -> int | None:
        return self._node.poll()

    def poll(self) -> int | None:
        return self._node.poll()
