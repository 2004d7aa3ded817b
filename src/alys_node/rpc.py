"""JSON-RPC 2.0 over HTTP (aiohttp) plus GET /metrics.

Every failure maps to a JSON-RPC error object; a handler bug becomes -32000 with a one-line
message, never an HTTP 500 with a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("alys_node.rpc")

Handler = Callable[[list | dict], Awaitable[Any]]


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_params(message: str) -> RpcError:
    return RpcError(-32602, message)


class RpcServer:
    def __init__(self, metrics_render: Callable[[], bytes] | None = None) -> None:
        self.methods: dict[str, Handler] = {}
        self.metrics_render = metrics_render
        self._runner: web.AppRunner | None = None
        self.port = 0

    def register(self, method: str, handler: Handler) -> None:
        self.methods[method] = handler

    async def start(self, host: str, port: int) -> int:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/", self._http)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics_render() if self.metrics_render else b""
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def _http(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return web.json_response(_err(None, -32700, "parse error: body is not valid JSON"))
        if isinstance(body, list):
            if not body:
                return web.json_response(_err(None, -32600, "invalid request: empty batch"))
            out = [r for r in [await self.call(x) for x in body] if r is not None]
            return web.json_response(out) if out else web.Response(status=204)
        resp = await self.call(body)
        return web.json_response(resp) if resp is not None else web.Response(status=204)

    async def call(self, req: Any) -> dict | None:
        if (
            not isinstance(req, dict)
            or req.get("jsonrpc") != "2.0"
            or not isinstance(req.get("method"), str)
        ):
            rid = req.get("id") if isinstance(req, dict) else None
            return _err(rid, -32600, "invalid request: need jsonrpc '2.0' and a string method")
        rid = req.get("id")
        notify = "id" not in req
        params = req.get("params", [])
        if not isinstance(params, list | dict):
            return _err(rid, -32602, "invalid params: must be an array or object")
        fn = self.methods.get(req["method"])
        if fn is None:
            return _err(rid, -32601, f"method not found: {req['method']}")
        try:
            result = await fn(params)
        except RpcError as e:
            return None if notify else _err(rid, e.code, e.message)
        except Exception as e:
            log.warning("rpc handler error", extra={"method": req["method"], "error": repr(e)})
            return None if notify else _err(rid, -32000, f"server error: {e}")
        return None if notify else {"jsonrpc": "2.0", "id": rid, "result": result}


def _err(rid: Any, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def param(params: list | dict, idx: int, name: str, kind: type | tuple, default: Any = ...) -> Any:
    """Positional or named parameter with a type check (-32602 on mismatch)."""
    if isinstance(params, list):
        v = params[idx] if idx < len(params) else default
    else:
        v = params.get(name, default)
    if v is ...:
        raise invalid_params(f"missing parameter {name!r}")
    if v is not default and (not isinstance(v, kind) or isinstance(v, bool) and kind is int):
        raise invalid_params(f"parameter {name!r} has the wrong type")
    return v
