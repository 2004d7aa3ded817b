"""JSON-RPC binding of the governance actor: params in, actor messages out, Replies back.

Parsing lives here, not in the actor, so the actor sees only typed messages and the JSON-RPC
error mapping (-32602 for malformed params, -32010 for a rejected request) is in one place.

Methods (params as an object, or positionally in the order shown):
  gov_propose {id, kind="generic", payload="0x", nonce, expiry=now+1h}   -> proposal status
  gov_sign    {id, pubkey, signature}                                     -> {id, signatures, threshold}
  gov_status  {id?}        -> proposal status, or the federation with pending ids and evidence
  gov_execute {id} | {approval}                                          -> receipt
A rejected request is JSON-RPC error -32010 with message "<reason>: <detail>".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alys_actors import ActorRef
from alys_node.rpc import RpcError, invalid_params

from .ledger import Approval
from .messages import Execute, Propose, Reply, Sign, Status
from .proposal import GovernanceError, ProposalKind, parse_hex

GOV_ERROR = -32010
ASK_TIMEOUT_S = 10.0
METHODS = ("gov_propose", "gov_sign", "gov_status", "gov_execute")

Params = list[Any] | dict[str, Any]
Method = Callable[[Params], Awaitable[Any]]


def named(params: Params, names: tuple[str, ...]) -> dict[str, Any]:
    """Positional params mapped onto ``names``; one object param is taken as the names."""
    if isinstance(params, list):
        if len(params) == 1 and isinstance(params[0], dict):
            return params[0]
        if len(params) > len(names):
            raise invalid_params(f"at most {len(names)} parameters: {', '.join(names)}")
        return dict(zip(names, params, strict=False))
    return params


def get(p: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    v = p.get(name, default)
    if v is ...:
        raise invalid_params(f"missing parameter {name!r}")
    if v is not default and (not isinstance(v, kind) or (isinstance(v, bool) and kind is int)):
        raise invalid_params(f"parameter {name!r} has the wrong type")
    return v


def hex_bytes(value: str, what: str) -> bytes:
    try:
        return parse_hex(value, what)
    except GovernanceError as exc:
        raise invalid_params(exc.detail) from None


def parse_propose(params: Params) -> Propose:
    p = named(params, ("id", "kind", "payload", "nonce", "expiry"))
    kind = get(p, "kind", str, "generic")
    if kind not in {k.value for k in ProposalKind}:
        raise invalid_params(f"kind must be one of {[k.value for k in ProposalKind]}")
    return Propose(
        id=get(p, "id", str),
        nonce=get(p, "nonce", int),
        kind=kind,
        payload=hex_bytes(get(p, "payload", str, "0x"), "payload"),
        expiry=get(p, "expiry", int, None),
    )


def parse_sign(params: Params) -> Sign:
    p = named(params, ("id", "pubkey", "signature"))
    return Sign(
        get(p, "id", str),
        hex_bytes(get(p, "pubkey", str), "pubkey"),
        hex_bytes(get(p, "signature", str), "signature"),
    )


def parse_status(params: Params) -> Status:
    return Status(get(named(params, ("id",)), "id", str, None))


def parse_execute(params: Params) -> Execute:
    p = named(params, ("id",))
    if "approval" in p:
        try:
            return Execute(approval=Approval.from_json(p["approval"]))
        except GovernanceError as exc:
            raise invalid_params(str(exc)) from None
    return Execute(get(p, "id", str))


def rpc_error(reply: Reply) -> RpcError:
    return RpcError(GOV_ERROR, f"{reply.reason}: {reply.detail}" if reply.detail else reply.reason)


class GovernanceRpc:
    """Turns JSON-RPC params into actor messages and Replies into results or -32010 errors."""

    def __init__(self, ref: ActorRef) -> None:
        self.ref = ref

    async def _ask(self, msg: Any) -> Any:
        reply: Reply = await self.ref.ask(msg, timeout=ASK_TIMEOUT_S)
        if not reply.ok:
            raise rpc_error(reply)
        return reply.value

    async def gov_propose(self, params: Params) -> Any:
        return await self._ask(parse_propose(params))

    async def gov_sign(self, params: Params) -> Any:
        return await self._ask(parse_sign(params))

    async def gov_status(self, params: Params) -> Any:
        return await self._ask(parse_status(params))

    async def gov_execute(self, params: Params) -> Any:
        return await self._ask(parse_execute(params))

    def methods(self) -> dict[str, Method]:
        return {name: getattr(self, name) for name in METHODS}


def unavailable_methods(why: str) -> dict[str, Method]:
    """gov_* answering why governance is off (a federation that could not be built)."""

    async def unavailable(params: Params) -> Any:
        raise RpcError(GOV_ERROR, f"governance_unavailable: {why}")

    return dict.fromkeys(METHODS, unavailable)
