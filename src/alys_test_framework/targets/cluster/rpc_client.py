"""A minimal JSON-RPC 2.0 client for node processes.

Harness verdicts come from what a node answers over RPC, so errors must stay distinguishable:
a node that is down (``RpcUnavailable``) is a different fact from a node that answered with a
JSON-RPC error (``RpcError``), and both carry the node name so a failure message is readable.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import aiohttp


class RpcUnavailable(ConnectionError):
    """The node did not answer at all (refused, reset, timed out, paused)."""


class RpcError(RuntimeError):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, name: str, method: str, code: int, message: str) -> None:
        super().__init__(f"{name}: {method} -> error {code}: {message}")
        self.code = code
        self.rpc_message = message


class RpcClient:
    """One HTTP session per node; ``call`` returns the ``result`` or raises one of the above."""

    def __init__(self, url: str, name: str = "node", timeout_s: float = 10.0) -> None:
        self.url = url
        self.name = name
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self.last_latency_s: float | None = None

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=8, force_close=False)
            )
        return self._session

    async def call(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        session = await self._get_session()
        limit = aiohttp.ClientTimeout(total=timeout_s or self.timeout_s)
        start = time.perf_counter()
        try:
            async with session.post(self.url, json=body, timeout=limit) as resp:
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RpcUnavailable(
                f"{self.name}: {method} unreachable at {self.url}: {type(exc).__name__} {exc}"
            ) from None
        self.last_latency_s = time.perf_counter() - start
        try:
            data = json.loads(text)
        except ValueError:
            raise RpcError(
                self.name, method, -1, f"non-JSON answer ({resp.status}): {text[:200]}"
            ) from None
        if not isinstance(data, dict):
            raise RpcError(self.name, method, -1, f"answer is not an object: {text[:200]}")
        if data.get("error") is not None:
            err = data["error"]
            if isinstance(err, dict):
                raise RpcError(self.name, method, int(err.get("code", -1)), str(err.get("message")))
            raise RpcError(self.name, method, -1, str(err))
        return data.get("result")

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
