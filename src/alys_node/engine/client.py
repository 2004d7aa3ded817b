"""Async Engine API client with a fresh JWT per request, as consensus clients do."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp

from .jwt_auth import make_token


class EngineRpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class EngineHttpError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


class EngineClient:
    """JSON in, JSON out: callers decide whether to go through the codec."""

    def __init__(self, url: str, secret: bytes, timeout_s: float = 10.0) -> None:
        self.url, self.secret = url, secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    async def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, body: Any, token: str | None = "fresh") -> tuple[int, Any]:
        """Raw POST; token "fresh" = a valid JWT now, None = no header, else that token."""
        headers = {"Content-Type": "application/json"}
        if token == "fresh":
            token = make_token(self.secret)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        sess = await self._sess()
        async with sess.post(self.url, json=body, headers=headers) as resp:
            text = await resp.text()
            try:
                return resp.status, await resp.json(content_type=None)
            except ValueError:
                return resp.status, text

    async def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """Full JSON-RPC response object (result or error)."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        status, data = await self.post(body)
        if status != 200 or not isinstance(data, dict):
            raise EngineHttpError(status, str(data))
        return data

    async def call(self, method: str, params: list[Any]) -> Any:
        data = await self.request(method, params)
        if "error" in data:
            err = data["error"]
            raise EngineRpcError(err.get("code", 0), err.get("message", ""))
        return data["result"]
