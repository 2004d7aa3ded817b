"""GovernanceActor: the federation ledger inside the node, reachable by ask and by JSON-RPC.

The ledger lives in a GovernanceState created by ``attach`` and handed to the actor factory, so
a supervisor restart (fresh actor instance) keeps proposals, signatures and executed nonces.
Rejections are answers (messages.Reply), not failures. The JSON-RPC binding and its parameter
parsing are in governance/rpc.py; this module is the actor and its node hook.
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
from .ledger import GovernanceLedger
from .messages import Execute, Propose, Reply, Sign, Status
from .proposal import GovernanceError, Proposal, ProposalKind, parse_hex
from .rpc import GOV_ERROR, GovernanceRpc, unavailable_methods

__all__ = [  # the messages and the RPC binding are re-exported for existing callers
    "GOV_ERROR",
    "Execute",
    "GovernanceActor",
    "GovernanceRpc",
    "GovernanceState",
    "Propose",
    "Reply",
    "Sign",
    "Status",
    "attach",
    "load_federation",
    "start_governance",
]

log = logging.getLogger("alys_node.governance")

DEFAULT_TTL_MS = 3_600_000


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
            try:
                kind = ProposalKind(m.kind)
            except ValueError:
                raise GovernanceError("invalid_proposal", f"unknown kind {m.kind!r}") from None
            p = Proposal(m.id, kind, m.payload, m.nonce, expiry, fed.epoch, fed.federation_id)
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
        if (pid := m.proposal_id) is not None:
            return self._guard(lambda: self.ledger.status(pid))
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
    for method, fn in unavailable_methods(why).items():
        node.rpc.register(method, fn)
