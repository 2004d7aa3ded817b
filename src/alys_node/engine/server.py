"""Embedded execution endpoint: Engine API JSON-RPC over HTTP with JWT, on 127.0.0.1.

This is the default execution layer for the reference node and the Lighthouse harness: a
real HTTP server with real authentication, so the consensus side is tested through the same
wire protocol it would use against Geth or Reth.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from . import codec
from .errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TOO_LARGE_REQUEST,
    EngineError,
)
from .jwt_auth import JwtAuthError, bearer_token, verify_token
from .state import ExecutionState, ForkSchedule

MAX_BODY = 16 * 1024 * 1024
# V4 is decoded (recorded exchanges use it) but amsterdam is never scheduled here
SUPPORTED = sorted(m for m in codec.METHODS if not m.endswith("V4"))
MAX_BODIES = 1024


def _rpc_error(req_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


class EmbeddedExecutionEndpoint:
    """Engine API server; ``url`` is valid after ``start()``. Subclass hooks for broken targets:
    ``authenticate`` and the ``state`` object's ``check_block_hash``."""

    def __init__(
        self,
        secret: bytes,
        schedule: ForkSchedule | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        preset: str = "mainnet",
        state: ExecutionState | None = None,
    ) -> None:
        self.secret = secret
        self.host, self.port = host, port
        self.state = state or ExecutionState(schedule or ForkSchedule(), preset=preset)
        self.requests = 0
        self.auth_failures = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmbeddedExecutionEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP ------------------------------------------------------------------------------
    def authenticate(self, header: str | None) -> None:
        """Raise JwtAuthError unless the bearer token is valid now."""
        verify_token(self.secret, bearer_token(header), now=time.time())

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            self.authenticate(request.headers.get("Authorization"))
        except JwtAuthError as exc:
            self.auth_failures += 1
            return web.json_response({"error": f"unauthorized: {exc}"}, status=401)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.json_response(_rpc_error(None, PARSE_ERROR, "Parse error"))
        if isinstance(body, list):
            if not body or len(body) > 100:
                return web.json_response(_rpc_error(None, INVALID_REQUEST, "bad batch size"))
            return web.json_response([self.dispatch(item) for item in body])
        return web.json_response(self.dispatch(body))

    # -- JSON-RPC --------------------------------------------------------------------------
    def dispatch(self, msg: Any) -> dict[str, Any]:
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or "method" not in msg:
            rid = msg.get("id") if isinstance(msg, dict) else None
            return _rpc_error(rid, INVALID_REQUEST, "Invalid Request")
        rid, method = msg.get("id"), msg["method"]
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            return self._eth_block(rid, method, msg.get("params", []))
        if method not in codec.METHODS:
            return _rpc_error(rid, METHOD_NOT_FOUND, f"Method not found: {method}")
        try:
            params = codec.decode_params(method, msg.get("params", []))
            result = self.call(method, params)
            return {"jsonrpc": "2.0", "id": rid, "result": self.encode_result(method, result)}
        except codec.CodecError as exc:
            return _rpc_error(rid, INVALID_PARAMS, f"Invalid params: {exc}")
        except EngineError as exc:
            return {"jsonrpc": "2.0", "id": rid, "error": exc.to_json()}
        except Exception as exc:  # never a traceback on the wire
            return _rpc_error(rid, INTERNAL_ERROR, f"Internal error: {type(exc).__name__}")

    def _eth_block(self, rid: Any, method: str, params: Any) -> dict[str, Any]:
        """eth_getBlockByNumber / eth_getBlockByHash (header view; transactions as hashes)."""
        st = self.state
        try:
            if not isinstance(params, list) or len(params) != 2:
                raise ValueError("expected [block, fullTransactions]")
            ref = params[0]
            if method == "eth_getBlockByHash":
                block = st.blocks.get(codec.decode("hash32", ref))
                block = block if block is not None and block.status == "VALID" else None
            elif ref in ("latest", "safe", "finalized"):
                tag = {"latest": st.head, "safe": st.safe, "finalized": st.finalized}[ref]
                block = st.blocks.get(tag)
            elif ref == "earliest":
                block = st.block_by_number(0)
            else:
                block = st.block_by_number(codec.decode("u64", ref))
        except (codec.CodecError, ValueError) as exc:
            return _rpc_error(rid, INVALID_PARAMS, f"Invalid params: {exc}")
        return {"jsonrpc": "2.0", "id": rid, "result": st.block_object(block)}

    def encode_result(self, method: str, result: Any) -> Any:
        return codec.encode_result(method, result)

    def call(self, method: str, params: list[Any]) -> Any:
        if method == "engine_exchangeCapabilities":
            return list(SUPPORTED)
        name, version = method[len("engine_") : -2], int(method[-1])
        st = self.state
        if name == "forkchoiceUpdated":
            attrs = params[1] if len(params) > 1 else None
            if version == 4:
                raise EngineError(-38005, "forkchoiceUpdatedV4 (amsterdam) is not scheduled")
            return st.forkchoice_updated(version, params[0], attrs)
        if name == "getPayload":
            got = st.get_payload(version, params[0])
            if version == 1:
                return got["payload"]
            out = {"execution_payload": got["payload"], "block_value": 0}
            if version == 3:
                out["blobs_bundle"] = {"commitments": [], "proofs": [], "blobs": []}
                out["should_override_builder"] = False
            return out
        if name == "getPayloadBodiesByHash":
            if len(params[0]) > MAX_BODIES:
                raise EngineError(TOO_LARGE_REQUEST, f"{len(params[0])} hashes > {MAX_BODIES}")
            return [st.body(st.blocks.get(h)) for h in params[0]]
        if name == "getPayloadBodiesByRange":
            start, count = params
            if start < 1 or count < 1:
                raise EngineError(INVALID_PARAMS, "start and count must be >= 1")
            if count > MAX_BODIES:
                raise EngineError(TOO_LARGE_REQUEST, f"count {count} > {MAX_BODIES}")
            chain = st.canonical_chain()
            return [st.body(chain[n]) for n in range(start, start + count) if n < len(chain)]
        if name == "newPayload":
            if version == 3:
                return st.new_payload(3, params[0], params[1], params[2])
            return st.new_payload(version, params[0])
        raise EngineError(METHOD_NOT_FOUND, method)
