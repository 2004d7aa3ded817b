"""Fixtures for the reference-node tests: a seeded chain spec and a process launcher that always
kills what it started (also when the test fails)."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alys_node.chain.spec import ChainSpec, init_spec


def wait_until(pred: Callable[[], object], timeout: float, what: str, step: float = 0.05):
    """Poll ``pred`` until truthy; on timeout fail naming the condition and its last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {last!r})")


class NodeProc:
    def __init__(self, name: str, datadir: Path, args: list[str], log: Path) -> None:
        self.name = name
        self.datadir = datadir
        self.args = args
        self.log_path = log
        self.proc: subprocess.Popen | None = None
        self.p2p_port = 0
        self.rpc_port = 0

    def start(self, timeout: float = 30.0) -> NodeProc:
        cmd = [sys.executable, "-m", "alys_node", "--datadir", str(self.datadir)]
        cmd += ["--p2p-port", "0", "--rpc-port", "0", "--log-json", *self.args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=open(self.log_path, "a"), text=True
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        if not line:
            self.kill()
            raise AssertionError(f"node {self.name} did not start: {self.log_tail()}")
        info = json.loads(line)
        self.p2p_port, self.rpc_port = info["p2p_port"], info["rpc_port"]
        return self

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.p2p_port}"

    def call(self, method: str, *params, timeout: float = 60.0) -> dict:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.rpc_port}/",
            body.encode(),
            {"Content-Type": "application/json"},
        )
        return json.loads(urllib.request.urlopen(req, timeout=timeout).read())

    def rpc(self, method: str, *params, timeout: float = 60.0):
        resp = self.call(method, *params, timeout=timeout)
        if "error" in resp:
            raise AssertionError(f"{self.name} {method}: {resp['error']}")
        return resp["result"]

    def height(self) -> int:
        return self.rpc("chain_head")["height"]

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-n:])
        except OSError:
            return ""

    def log_events(self) -> list[dict]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return out

    def terminate(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def spec_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("spec")
    init_spec(d, 1, chain_id="alys-node-test", slot_ms=1000, checkpoint_interval=10, seed=b"n" * 32)
    return d


@pytest.fixture(scope="session")
def spec(spec_dir: Path) -> ChainSpec:
    return ChainSpec.load(spec_dir / "chain-spec.json")


@pytest.fixture
def launch(tmp_path: Path, spec_dir: Path) -> Iterator[Callable[..., NodeProc]]:
    """``launch(name, *args, dev=False)`` starts a node on the test chain; all are killed after."""
    started: list[NodeProc] = []

    def _launch(name: str, *args: str, dev: bool = False, start: bool = True) -> NodeProc:
        extra = ["--chain-spec", str(spec_dir / "chain-spec.json"), "--verify-workers", "1"]
        if dev:
            extra += ["--dev", "--authority-key", str(spec_dir / "authority-0.key")]
        n = NodeProc(name, tmp_path / name, [*extra, *args], tmp_path / f"{name}.log")
        started.append(n)
        return n.start() if start else n

    try:
        yield _launch
    finally:  # SIGTERM all first (parallel graceful shutdown), then reap; SIGKILL stragglers
        for n in started:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.send_signal(signal.SIGTERM)
        for n in started:
            n.terminate(timeout=5)
