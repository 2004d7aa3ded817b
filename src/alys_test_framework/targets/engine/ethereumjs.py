"""@ethereumjs/client as an Engine API target: installed from npm, started on loopback, torn down.

Rules:
- the client is installed with npm into a cache directory (``$ALYS_ETHEREUMJS_CACHE`` or
  ``~/.cache/alys-test/ethereumjs``) once per version; without node or npm it is unavailable,
  with the reason, never silently replaced by something else;
- it runs from a post-merge genesis with the harness's fork times (``genesis.py``), with the
  Engine API on 127.0.0.1 behind a fresh JWT secret, discovery off and its devp2p sockets bound
  to loopback by a preloaded module (the client binds them to 0.0.0.0 otherwise);
- it is ready when block 0 is served on the Engine port (a real condition, polled); it is
  stopped with SIGTERM to its process group, then SIGKILL, and waited for, also on failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...oracles.engine.forks import ForkSchedule
from ...oracles.engine.jwt_tokens import make_token
from ...waiting import WaitTimeout, wait_until_blocking
from .genesis import write_genesis

PACKAGE = "@ethereumjs/client"
VERSION = "0.10.5"
LOOPBACK_PRELOAD = Path(__file__).resolve().parents[2] / "data" / "lighthouse" / "interop"
LOOPBACK_PRELOAD = LOOPBACK_PRELOAD / "loopback.cjs"


class ClientUnavailable(RuntimeError):
    """The client cannot be installed or started here; the message says why."""


def default_cache() -> Path:
    env = os.environ.get("ALYS_ETHEREUMJS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "alys-test" / "ethereumjs"


def _cli(cache: Path) -> Path:
    return cache / "node_modules" / "@ethereumjs" / "client" / "dist" / "esm" / "bin" / "cli.js"


def installed_version(cache: Path) -> str | None:
    meta = cache / "node_modules" / "@ethereumjs" / "client" / "package.json"
    try:
        return str(json.loads(meta.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def install(cache: Path | None = None, version: str = VERSION, timeout_s: float = 600) -> Path:
    """The client's cli.js, installing ``PACKAGE@version`` with npm first if needed."""
    cache = cache or default_cache()
    if installed_version(cache) == version and _cli(cache).is_file():
        return _cli(cache)
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        raise ClientUnavailable("node and npm are needed to install @ethereumjs/client")
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [
        npm,
        "install",
        "--prefix",
        str(cache),
        "--no-audit",
        "--no-fund",
        f"{PACKAGE}@{version}",
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ClientUnavailable(
            f"npm install {PACKAGE}@{version} took over {timeout_s:g} s"
        ) from None
    if done.returncode != 0 or installed_version(cache) != version:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ClientUnavailable(f"npm install {PACKAGE}@{version} failed: {' | '.join(tail)}")
    return _cli(cache)


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EthereumJsClient:
    """One client process with its own data directory, genesis and JWT secret."""

    workdir: Path
    schedule: ForkSchedule
    cache: Path = field(default_factory=default_cache)
    ready_timeout_s: float = 120.0
    engine_port: int = 0
    p2p_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def engine_url(self) -> str:
        return f"http://127.0.0.1:{self.engine_port}"

    @property
    def jwt_secret_file(self) -> Path:
        return self.workdir / "jwt.hex"

    @property
    def log_file(self) -> Path:
        return self.workdir / "ethereumjs.log"

    def command(self, cli: Path) -> list[str]:
        node = shutil.which("node") or "node"
        return [
            node,
            "--require",
            str(LOOPBACK_PRELOAD),
            str(cli),
            "--gethGenesis",
            str(self.workdir / "genesis.json"),
            "--dataDir",
            str(self.workdir / "data"),
            "--rpcEngine",
            "--rpcEngineAddr",
            "127.0.0.1",
            "--rpcEnginePort",
            str(self.engine_port),
            "--jwtSecret",
            str(self.jwt_secret_file),
            "--port",
            str(self.p2p_port),
            "--extIP",
            "127.0.0.1",
            "--discV4=false",
            "--discDns=false",
            "--maxPeers",
            "0",
            "--isSingleNode",
        ]  # its own log file goes to <dataDir>/ethereumjs.log; stdout to ethereumjs.log

    def start(self) -> EthereumJsClient:
        cli = install(self.cache)
        self.workdir.mkdir(parents=True, exist_ok=True)
        write_genesis(self.workdir / "genesis.json", self.schedule)
        self.jwt_secret_file.write_text("0x" + secrets.token_bytes(32).hex())
        self.engine_port = self.engine_port or _free_port()
        self.p2p_port = self.p2p_port or _free_port()
        log = self.log_file.open("ab")
        try:
            self.process = subprocess.Popen(
                self.command(cli),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,  # anything the client writes beside it stays in the workdir
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            wait_until_blocking(
                self._ready,
                self.ready_timeout_s,
                f"@ethereumjs/client serving block 0 on {self.engine_url}",
                poll_s=0.25,
                observe=self._observe,
            )
        except (WaitTimeout, ClientUnavailable):
            self.stop()
            raise
        return self

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A blocking authenticated call on the Engine port (for setup and cross-checks)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        secret = bytes.fromhex(self.jwt_secret_file.read_text().strip()[2:])
        req = urllib.request.Request(
            self.engine_url,
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {make_token(secret)}",
            },
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            data = json.loads(resp.read())
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data["result"]

    def genesis_hash(self) -> str:
        return str(self.rpc("eth_getBlockByNumber", ["0x0", False])["hash"])

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise ClientUnavailable(
                f"@ethereumjs/client exited with {self.process.returncode}; "
                f"last log lines: {self._observe()}"
            )
        try:
            return bool(self.genesis_hash())
        except (OSError, urllib.error.URLError, RuntimeError, ValueError):
            return False

    def _observe(self) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").splitlines()[-3:])
        except OSError:
            return "no log yet"

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM the client's process group, SIGKILL it if still there; the exit code."""
        proc, self.process = self.process, None
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout_s)
            except ProcessLookupError:
                pass
        return proc.returncode

    def __enter__(self) -> EthereumJsClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
