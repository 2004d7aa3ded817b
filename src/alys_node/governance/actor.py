"""GovernanceActor: the federation ledger inside the node, reachable by ask and by JSON-RPC.

The ledger lives in a GovernanceState created by ``attach`` and handed to the actor factory, so
a supervisor restart (fresh actor instance) keeps proposals, signatures and executed nonces.
Rejections are answers, not failures: handlers return a Reply instead of raising, because an
exception would count as an actor crash and trigger a restart for every bad request.

RPC methods (params as an object, or positionally in the order shown):
  gov_propose {id, kind="generic", payload="0x", nonce, expiry=now+1h}   -> proposal status
  gov_sign    {id, pubkey, signature}                                     -> {id, signatures, threshold}
  gov_status  {id?}        -> proposal status, or the federation with pending ids and evidence
  gov_execute {id} | {approval}                                          -> receipt
A rejected request is JSON-RPC error -32010 with message "<reason>: <detail>".
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alys_actors import Actor, ActorRef, handler

from .federation import Federation, Member
from .journal import GovernanceJournal
from .ledger import Approval, GovernanceLedger
from .proposal import GovernanceError, Proposal, ProposalKind, parse_hex

log = logging.getLogger("alys_node.governance")

GOV_ERROR = -32010
ASK_TIMEOUT_S = 10.0
DEFAULT_TTL_MS = 3_600_000


# -- messages -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Propose:
    id: str
    nonce: int
    kind: str = "generic"
    payload: bytes = b""
    expiry: int | None = None


@dataclass(frozen=True)
class Sign:
    proposal_id: str
    member: bytes
    signature: bytes


@dataclass(frozen=True)
class Status:
    proposal_id: str | None = None


@dataclass(frozen=True)
class Execute:
    proposal_id: str | None = None
    approval: Approval | None = None


@dataclass(frozen=True)
class Reply:
    ok: bool
    value: Any = None
    reason: str = ""
    detail: str = ""

    def unwrap(self) -> Any:
        if not self.ok:
            raise GovernanceError(self.reason, self.detail)
        return self.value


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class GovernanceState:
    """Everything that must outlive one actor incarnation."""

    ledger: GovernanceLedger
    journal: GovernanceJournal | None = None
    clock: Callable[[], int] = _now_ms
    executions: int = field(default=0)


class GovernanceActor(Actor):
    def __init__(self, state: GovernanceState) -> None:
        self.state = state
        self.ledger = state.ledger

    @staticmethod
    def _guard(fn: Callable[[], Any]) -> Reply:
        try:
            return Reply(True, fn())
        except GovernanceError as exc:
            return Reply(False, reason=exc.reason, detail=exc.detail)

    @handler(Propose)
    def on_propose(self, m: Propose) -> Reply:
        def run() -> dict:
            now, fed = self.state.clock(), self.ledger.federation
            expiry = m.expiry if m.expiry is not None else now + DEFAULT_TTL_MS
            p = Proposal(m.id, m.kind, m.payload, m.nonce, expiry, fed.epoch, fed.federation_id)
            self.ledger.propose(p, now)
            return self.ledger.status(p.id)

        return self._guard(run)

    @handler(Sign)
    def on_sign(self, m: Sign) -> Reply:
        def run() -> dict:
            count = self.ledger.sign(m.proposal_id, m.member, m.signature, self.state.clock())
            return {
                "id": m.proposal_id,
                "signatures": count,
                "threshold": self.ledger.federation.threshold,
            }

        return self._guard(run)

    @handler(Status)
    def on_status(self, m: Status) -> Reply:
        if m.proposal_id is not None:
            return self._guard(lambda: self.ledger.status(m.proposal_id))
        return Reply(
            True,
            {
                "federation": self.ledger.federation.to_json(),
                "pending": self.ledger.pending(),
                "executed": len(self.ledger.executed),
                "evidence": [e.to_json() for e in self.ledger.evidence],
            },
        )

    @handler(Execute)
    def on_execute(self, m: Execute) -> Reply:
        def run() -> dict:
            now = self.state.clock()
            if m.approval is not None:
                approval = m.approval
            elif m.proposal_id is not None:
                if m.proposal_id in self.ledger.executed:
                    raise GovernanceError("replay", f"proposal {m.proposal_id} already executed")
                approval = self.ledger.aggregate(m.proposal_id)
            else:
                raise GovernanceError("invalid_request", "execute needs an id or an approval")
            p = approval.proposal
            if p.id in self.ledger.executed or p.nonce in self.ledger.used_nonces:
                raise GovernanceError("replay", f"proposal {p.id} / nonce {p.nonce} already used")
            self.ledger.verify_approval(approval, now)
            self.ledger.federation.check_effect(approval.proposal, self.ledger.crypto)
            if self.state.journal is not None:  # durable before it takes effect or is reported
                self.state.journal.append(approval, now)
            self.ledger.execute(approval, now)
            self.state.executions += 1
            receipt = self.ledger.executed[approval.proposal.id]
            return dataclasses.asdict(receipt)

        return self._guard(run)


# -- RPC binding ----------------------------------------------------------------------------
class GovernanceRpc:
    """Turns JSON-RPC params into actor messages and Replies into results or -32010 errors."""

    def __init__(self, ref: ActorRef) -> None:
        self.ref = ref

    async def _ask(self, msg: Any) -> Any:
        from alys_node.rpc import RpcError

        reply: Reply = await self.ref.ask(msg, timeout=ASK_TIMEOUT_S)
        if not reply.ok:
            raise RpcError(
                GOV_ERROR, f"{reply.reason}: {reply.detail}" if reply.detail else reply.reason
            )
        return reply.value

    @staticmethod
    def _params(params: list | dict, names: tuple[str, ...]) -> dict:
        from alys_node.rpc import invalid_params

        if isinstance(params, list):
            if len(params) == 1 and isinstance(params[0], dict):
                return params[0]
            if len(params) > len(names):
                raise invalid_params(f"at most {len(names)} parameters: {', '.join(names)}")
            return dict(zip(names, params, strict=False))
        return params

    @staticmethod
    def _get(p: dict, name: str, kind: type | tuple, default: Any = ...) -> Any:
        from alys_node.rpc import invalid_params

        v = p.get(name, default)
        if v is ...:
            raise invalid_params(f"missing parameter {name!r}")
        if v is not default and (not isinstance(v, kind) or (isinstance(v, bool) and kind is int)):
            raise invalid_params(f"parameter {name!r} has the wrong type")
        return v

    @staticmethod
    def _bytes(value: str, what: str) -> bytes:
        from alys_node.rpc import invalid_params

        try:
            return parse_hex(value, what)
        except GovernanceError as exc:
            raise invalid_params(exc.detail) from None

    async def gov_propose(self, params: list | dict) -> Any:
        p = self._params(params, ("id", "kind", "payload", "nonce", "expiry"))
        kind = self._get(p, "kind", str, "generic")
        if kind not in {k.value for k in ProposalKind}:
            from alys_node.rpc import invalid_params

            raise invalid_params(f"kind must be one of {[k.value for k in ProposalKind]}")
        msg = Propose(
            id=self._get(p, "id", str),
            nonce=self._get(p, "nonce", int),
            kind=kind,
            payload=self._bytes(self._get(p, "payload", str, "0x"), "payload"),
            expiry=self._get(p, "expiry", int, None),
        )
        return await self._ask(msg)

    async def gov_sign(self, params: list | dict) -> Any:
        p = self._params(params, ("id", "pubkey", "signature"))
        msg = Sign(
            self._get(p, "id", str),
            self._bytes(self._get(p, "pubkey", str), "pubkey"),
            self._bytes(self._get(p, "signature", str), "signature"),
        )
        return await self._ask(msg)

    async def gov_status(self, params: list | dict) -> Any:
        p = self._params(params, ("id",))
        return await self._ask(Status(self._get(p, "id", str, None)))

    async def gov_execute(self, params: list | dict) -> Any:
        p = self._params(params, ("id",))
        if "approval" in p:
            try:
                approval = Approval.from_json(p["approval"])
            except GovernanceError as exc:
                from alys_node.rpc import invalid_params

                raise invalid_params(str(exc)) from None
            return await self._ask(Execute(approval=approval))
        return await self._ask(Execute(self._get(p, "id", str)))

    def methods(self) -> dict[str, Callable]:
        return {
            "gov_propose": self.gov_propose,
            "gov_sign": self.gov_sign,
            "gov_status": self.gov_status,
            "gov_execute": self.gov_execute,
        }


# -- node integration ----------------------------------------------------------------------
FEDERATION_FILE = "federation.json"
JOURNAL_FILE = "governance.jsonl"


def load_federation(datadir: Path, authorities: tuple[bytes, ...], chain_id: str) -> Federation:
    """``<datadir>/federation.json`` if present (members with PoPs), else the spec's authorities."""
    path = Path(datadir) / FEDERATION_FILE
    if not path.exists():
        return Federation.genesis(authorities, federation_id=chain_id)
    try:
        d = json.loads(path.read_text())
        members = [
            Member(parse_hex(m["pubkey"], "pubkey"), parse_hex(m["pop"], "pop"))
            for m in d["members"]
        ]
        return Federation.create(
            members, int(d["threshold"]), federation_id=d.get("federation_id", chain_id)
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GovernanceError("invalid_federation", f"{path}: {exc}") from None


async def start_governance(
    system: Any, state: GovernanceState, name: str = "governance"
) -> ActorRef:
    """Spawn the actor on any ActorSystem (also usable without a node, e.g. in a harness)."""
    return await system.spawn(lambda: GovernanceActor(state), name=name)


async def attach(node: Any) -> None:
    """Node hook: spawn the GovernanceActor and register the gov_* RPC methods.

    A federation that cannot be built (bad federation.json, duplicate spec keys) disables
    governance with a logged error and gov_* answering why; it never stops the node itself.
    """
    try:
        federation = load_federation(node.datadir, tuple(node.spec.authorities), node.spec.chain_id)
    except GovernanceError as exc:
        log.error("governance disabled", extra={"error": str(exc)})
        _register_unavailable(node, str(exc))
        return
    ledger = GovernanceLedger(federation)
    journal = GovernanceJournal(Path(node.datadir) / JOURNAL_FILE)
    journal.replay(ledger)
    ref = await start_governance(node.system, GovernanceState(ledger, journal))
    if hasattr(node, "refs"):
        node.refs["governance"] = ref
    for method, fn in GovernanceRpc(ref).methods().items():
        node.rpc.register(method, fn)


def _register_unavailable(node: Any, why: str) -> None:
    from alys_node.rpc import RpcError

    async def unavailable(params: list | dict) -> Any:
        raise RpcError(GOV_ERROR, f"governance_unavailable: {why}")

    for method in ("gov_propose", "gov_sign", "gov_status", "gov_execute"):
        node.rpc.register(method, unavailable)
