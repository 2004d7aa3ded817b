"""JSON-RPC 2.0 over HTTP (aiohttp) plus GET /metrics.

Every failure maps to a JSON-RPC error object; a handler bug becomes -32000 with a one-line
message, never an HTTP 500 with a traceback. Rules for what a body may contain:
- nesting deeper than MAX_DEPTH is a parse error (-32700), judged before parsing (D6): the
  parser's own guard depends on the recursion limit, which a library may raise (py_ecc sets
  100,000 on import) until deep input overflows the C stack. Brackets are counted also inside
  strings, which only ever refuses more;
- an ``id`` is a string, a number or null (JSON-RPC 2.0), so echoing it can never fail;
- a batch holds at most MAX_BATCH calls;
- an integer parameter is range-checked where it is read (``uint_param``/``height_param``), so
  a value the node cannot represent is -32602, never an error deep inside an actor (D1).
Any other path or method gets a JSON 4xx body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from alys_node.p2p.messages import MAX_HEIGHT

log = logging.getLogger("alys_node.rpc")

Handler = Callable[[list | dict], Awaitable[Any]]
MAX_BATCH = 100
MAX_DEPTH = 64
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# methods named after the real Alys node's RPC: they also accept JSON-RPC 1.0 requests (no
# "jsonrpc" member) and a bare value as params, as that node does
V1_METHODS = frozenset({"getheadblock", "getblockbyheight", "getblockbyhash"})


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_params(message: str) -> RpcError:
    return RpcError(-32602, message)


@web.middleware
async def _json_errors(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Unknown paths and wrong methods answer a JSON body with their 4xx status."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return web.json_response({"error": e.reason}, status=e.status)


class RpcServer:
    def __init__(
        self,
        metrics_render: Callable[[], bytes] | None = None,
        health: Callable[[], Awaitable[dict]] | None = None,
    ) -> None:
        self.methods: dict[str, Handler] = {}
        self.metrics_render = metrics_render
        self.health = health
        self.metric_aliases: dict[str, str] = {}  # exported name -> existing gauge's name
        self._runner: web.AppRunner | None = None
        self.port = 0

    def register(self, method: str, handler: Handler) -> None:
        self.methods[method] = handler

    async def start(self, host: str, port: int) -> int:
        app = web.Application(client_max_size=1 << 20, middlewares=[_json_errors])
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
        """200 while every actor runs, 503 otherwise, with each actor's state either way."""
        if self.health is None:
            return web.json_response({"ok": True})
        try:
            report = await self.health()
        except Exception as e:
            return web.json_response({"ok": False, "error": str(e)}, status=503)
        return web.json_response(report, status=200 if report.get("ok") else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics_render() if self.metrics_render else b""
        body += _aliases(body, self.metric_aliases)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def _http(self, request: web.Request) -> web.Response:
        resp = await self.handle(await request.read())
        return _reply(resp) if resp is not None else web.Response(status=204)

    async def handle(self, raw: bytes) -> dict | list | None:
        """One HTTP body in, the JSON-RPC answer out (None: notifications only, HTTP 204).
        Never raises: this is what the fuzzers drive."""
        if _too_deep(raw):
            return _err(None, -32700, f"parse error: JSON nested deeper than {MAX_DEPTH}")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return _err(None, -32700, "parse error: body is not valid JSON")
        except RecursionError:
            return _err(None, -32700, "parse error: JSON nested too deeply")
        if isinstance(body, list):
            if not body:
                return _err(None, -32600, "invalid request: empty batch")
            if len(body) > MAX_BATCH:
                msg = f"invalid request: batch of {len(body)} calls exceeds {MAX_BATCH}"
                return _err(None, -32600, msg)
            out = [r for r in [await self.call(x) for x in body] if r is not None]
            return out or None
        return await self.call(body)

    async def call(self, req: Any) -> dict | None:
        method = req.get("method") if isinstance(req, dict) else None
        v1 = isinstance(method, str) and method in V1_METHODS and "jsonrpc" not in req
        if v1:  # the real Alys node speaks JSON-RPC 1.0 for these: answer in kind
            resp = await self.call({**req, "jsonrpc": "2.0", "id": req.get("id")})
            if resp is None:
                return None
            return {"result": resp.get("result"), "error": resp.get("error"), "id": resp["id"]}
        if (
            not isinstance(req, dict)
            or req.get("jsonrpc") != "2.0"
            or not isinstance(req.get("method"), str)
        ):
            rid = req.get("id") if isinstance(req, dict) else None
            rid = rid if _valid_id(rid) else None
            return _err(rid, -32600, "invalid request: need jsonrpc '2.0' and a string method")
        rid = req.get("id")
        if not _valid_id(rid):
            return _err(None, -32600, "invalid request: id must be a string, a number or null")
        notify = "id" not in req
        params = req.get("params", [])
        if req["method"] in V1_METHODS and not isinstance(params, list | dict):
            params = [params]  # Alys style: a bare value
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


def _too_deep(raw: bytes) -> bool:
    """Bracket depth above MAX_DEPTH, in C-speed passes: each pass deletes the innermost "[]"
    pairs, so what is left after MAX_DEPTH passes nests deeper (or never closes: invalid JSON,
    refused as a parse error either way)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    brackets = raw.translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    return b"[" in brackets


def _aliases(text: bytes, aliases: dict[str, str]) -> bytes:
    """Gauges re-exported under another name (the real Alys node's ``chain_block_height``)."""
    out: list[str] = []
    lines = text.decode().splitlines()
    for alias, name in aliases.items():
        for line in lines:
            metric, _, value = line.partition(" ")
            if metric == name and value:
                out += [f"# HELP {alias} {name} (same value)", f"# TYPE {alias} gauge"]
                out.append(f"{alias} {value}")
    return ("\n".join(out) + "\n").encode() if out else b""


def _reply(obj: Any) -> web.Response:
    try:
        return web.json_response(obj)
    except (RecursionError, TypeError, ValueError) as e:  # a result JSON cannot carry
        log.warning("rpc result not serialisable", extra={"error": repr(e)})
        return web.json_response(_err(None, -32603, "internal error: result not serialisable"))


def _valid_id(rid: Any) -> bool:
    return rid is None or isinstance(rid, str | int | float) and not isinstance(rid, bool)


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


def uint_param(
    params: list | dict, idx: int, name: str, maximum: int, default: Any = ..., minimum: int = 0
) -> int:
    """An integer parameter within [minimum, maximum] (-32602 otherwise)."""
    v = param(params, idx, name, int, default)
    if not minimum <= v <= maximum:
        raise invalid_params(f"parameter {name!r} must be within {minimum}..{maximum}, got {v}")
    return v


def height_param(params: list | dict, idx: int, name: str) -> int:
    """A block height: what the store can key (0..MAX_HEIGHT)."""
    return uint_param(params, idx, name, MAX_HEIGHT)
