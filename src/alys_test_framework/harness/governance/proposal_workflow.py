"""proposal_workflow: the approval rules one at a time on the ledger (each test breaks exactly
one), then the same workflow through the target's actor and over a node process's JSON-RPC."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from ...oracles import bls
from ..base import Outcome, harness_test
from .kit import NOW, TTL, GovernanceHarnessBase


class ProposalWorkflowTests(GovernanceHarnessBase):
    @harness_test("proposal_workflow")
    async def test_happy_path(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        start = time.perf_counter()
        approval = self._collect(ledger, self._proposal(ledger), self.pool[:t])
        ledger.verify_approval(approval, NOW)
        receipt = ledger.execute(approval, NOW)
        out.record(
            workflow_ms=(time.perf_counter() - start) * 1e3,
            signers=t,
            members=ledger.federation.size,
        )
        out.expect(receipt.proposal_id == approval.proposal.id, "approved proposal executes")
        out.expect(
            ledger.status(approval.proposal.id)["state"] == "executed", "status reports execution"
        )
        again, reason = self.rejected(ledger.execute, approval, NOW)
        out.expect(again, "execution happens exactly once", f"second execute: {reason}")

    @harness_test("proposal_workflow")
    async def test_expired_proposal(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger, expiry=NOW + 1000)
        approval = self._collect(ledger, p, self.pool[:t])
        for label, now in (("at expiry", p.expiry), ("after expiry", p.expiry + 1)):
            rej, reason = self.rejected(ledger.verify_approval, approval, now)
            out.expect(rej, "expired proposals are rejected", f"verify {label}: {reason}")
        rej, reason = self.rejected(
            ledger.sign, p.id, self.pool[t].pk, self._sig(ledger, p, self.pool[t]), p.expiry
        )
        out.expect(rej, "expired proposals are rejected", f"late signature: {reason}")
        late = self._proposal(ledger, expiry=NOW)
        rej, reason = self.rejected(ledger.propose, late, NOW)
        out.expect(rej, "expired proposals are rejected", f"propose already expired: {reason}")
        rej, reason = self.rejected(ledger.execute, approval, p.expiry + 1)
        out.expect(rej, "expired proposals are rejected", f"execute after expiry: {reason}")
        out.expect(p.id not in ledger.executed, "expired proposal never executes")

    @harness_test("proposal_workflow")
    async def test_insufficient_signatures(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger)
        approval = self._collect(ledger, p, self.pool[: t - 1]) if t > 1 else None
        if approval is None:
            out.skip("threshold 1 has no insufficient set")
        rej, reason = self.rejected(ledger.execute, approval, NOW)
        out.expect(rej, "threshold is enforced", f"{t - 1} of {t} signatures: {reason}")
        rej, reason = self.rejected(ledger.execute_collected, p.id, NOW)
        out.expect(rej, "threshold is enforced", f"execute_collected with {t - 1}: {reason}")

    @harness_test("proposal_workflow")
    async def test_non_member_signature(self, out: Outcome) -> None:
        ledger = self._ledger()
        t, outsider = ledger.federation.threshold, self.pool[-1]
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        rej, reason = self.rejected(
            ledger.sign, p.id, outsider.pk, self._sig(ledger, p, outsider), NOW
        )
        out.expect(rej, "only members may sign", f"outsider signature: {reason}")
        crafted = self._craft(ledger, p, [*self.pool[: t - 1], outsider])
        rej, reason = self.rejected(ledger.verify_approval, crafted, NOW)
        out.expect(
            rej, "only members count toward the threshold", f"{t - 1} members + outsider: {reason}"
        )
        forged = self._sig(ledger, p, outsider)
        rej, reason = self.rejected(ledger.sign, p.id, self.pool[0].pk, forged, NOW)
        out.expect(
            rej,
            "a signature must come from the named member",
            f"outsider sig under member key: {reason}",
        )

    @harness_test("proposal_workflow")
    async def test_duplicate_signer(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        honest = self.pool[: max(t - 1, 1)]
        crafted = self._craft(ledger, p, [*honest, honest[0]])  # t entries, t-1 distinct
        rej, reason = self.rejected(ledger.verify_approval, crafted, NOW)
        out.expect(
            rej,
            "distinct signers: a duplicate is not counted twice",
            f"{len(honest)} distinct + dup: {reason}",
        )
        s = self.pool[0]
        sig = self._sig(ledger, p, s)
        first = ledger.sign(p.id, s.pk, sig, NOW)
        second = ledger.sign(p.id, s.pk, sig, NOW)
        out.expect(
            first == second == 1,
            "distinct signers: re-signing is idempotent",
            f"counts {first}, {second}",
        )

    @harness_test("proposal_workflow")
    async def test_tampered_payload(self, out: Outcome) -> None:
        ledger = self._ledger()
        approval = self._collect(
            ledger,
            self._proposal(ledger, payload=b"transfer=100"),
            self.pool[: ledger.federation.threshold],
        )
        p = approval.proposal
        variants = {
            "payload": dataclasses.replace(p, payload=b"transfer=900"),
            "kind": dataclasses.replace(p, kind="set_threshold"),
            "nonce": dataclasses.replace(p, nonce=p.nonce + 1000),
            "expiry": dataclasses.replace(p, expiry=p.expiry + 1),
            "id": dataclasses.replace(p, id=p.id + "x"),
        }
        accepted = [
            f
            for f, v in variants.items()
            if not self.rejected(
                ledger.verify_approval, dataclasses.replace(approval, proposal=v), NOW
            )[0]
        ]
        out.record(fields_checked=len(variants))
        out.expect(
            not accepted,
            "signatures are bound to the exact proposal bytes",
            f"accepted tampered {accepted}",
        )
        rej, reason = self.rejected(ledger.verify_approval, approval, NOW)
        out.expect(not rej, "untampered approval verifies", reason)

    @harness_test("proposal_workflow")
    async def test_replay(self, out: Outcome) -> None:
        ledger = self._ledger()
        t = ledger.federation.threshold
        approval = self._collect(ledger, self._proposal(ledger), self.pool[:t])
        ledger.execute(approval, NOW)
        rej, reason = self.rejected(ledger.execute, approval, NOW)
        out.expect(rej, "replay protection", f"same approval twice: {reason}")
        same_nonce = dataclasses.replace(approval.proposal, id="again")
        rej, reason = self.rejected(ledger.propose, same_nonce, NOW)
        out.expect(rej, "replay protection", f"executed nonce reused: {reason}")
        crafted = self._craft(ledger, same_nonce, self.pool[:t])
        rej, reason = self.rejected(ledger.execute, crafted, NOW)
        out.expect(rej, "replay protection", f"fresh approval for used nonce: {reason}")
        members = [(s.pk, s.pop) for s in self.pool[: self.gov.federation_size]]
        other = self.target.new_ledger(
            self.target.new_federation(members, t, federation_id="other")
        )
        fresh = self._proposal(ledger)
        rej, reason = self.rejected(other.execute, self._craft(ledger, fresh, self.pool[:t]), NOW)
        out.expect(rej, "replay protection", f"approval replayed on another federation: {reason}")

    @harness_test("proposal_workflow")
    async def test_rotation(self, out: Outcome) -> None:
        n, t = self.gov.federation_size, self.gov.threshold
        ledger = self._ledger(n, t)
        newcomer = self.pool[n]
        add = self._proposal(
            ledger,
            kind="add_member",
            payload=self.target.add_member_payload(newcomer.pk, newcomer.pop),
        )
        pending = self._proposal(ledger)
        approval_add = self._collect(ledger, add, self.pool[:t])
        approval_old = self._collect(ledger, pending, self.pool[:t])
        ledger.propose(probe := self._proposal(ledger), NOW)
        rej, reason = self.rejected(
            ledger.sign, probe.id, newcomer.pk, self._sig(ledger, probe, newcomer), NOW
        )
        out.expect(
            rej,
            "rotation effective only after execution",
            f"newcomer signed before execution: {reason}",
        )
        epoch = ledger.federation.epoch
        ledger.execute(approval_add, NOW)
        out.expect(ledger.federation.is_member(newcomer.pk), "rotation applies on execution")
        out.expect(
            ledger.federation.epoch == epoch + 1,
            "rotation starts a new epoch",
            f"epoch {ledger.federation.epoch}",
        )
        rej, reason = self.rejected(ledger.execute, approval_old, NOW)
        out.expect(rej, "approvals of an old epoch are void", f"old-epoch approval: {reason}")
        after = self._collect(ledger, self._proposal(ledger), [newcomer, *self.pool[: t - 1]])
        rej, reason = self.rejected(ledger.execute, after, NOW)
        out.expect(not rej, "newcomer counts after rotation", reason)
        rm = self._proposal(
            ledger, kind="remove_member", payload=self.target.remove_member_payload(self.pool[0].pk)
        )
        ledger.execute(self._collect(ledger, rm, self.pool[1 : t + 1]), NOW)
        p = self._proposal(ledger)
        ledger.propose(p, NOW)
        rej, reason = self.rejected(
            ledger.sign, p.id, self.pool[0].pk, self._sig(ledger, p, self.pool[0]), NOW
        )
        out.expect(rej, "a removed member can no longer sign", reason)
        out.record(epochs=ledger.federation.epoch, members=ledger.federation.size)

    # -- the same workflow through the node -----------------------------------------------
    @harness_test("proposal_workflow", timeout_s=60)
    async def test_actor_workflow(self, out: Outcome) -> None:
        """The same workflow through the target's governance actor on a real actor system."""
        ledger = self._ledger()
        t = ledger.federation.threshold
        async with self.target.actor_session(ledger, lambda: NOW, self.ctx.seed) as actor:
            pid, nonce = f"actor{self._next_nonce()}", self._nonce
            start = time.perf_counter()
            reply = await actor.propose(pid, nonce, b"param=2", NOW + TTL)
            out.require(
                reply.ok, "actor accepts a valid proposal", f"{reply.reason}: {reply.detail}"
            )
            msg = bytes.fromhex(reply.value["message"][2:])
            outsider = self.pool[-1]
            bad = await actor.sign(pid, outsider.pk, bls.sign(outsider.sk, msg))
            out.expect(not bad.ok, "only members may sign", "actor accepted an outsider")
            for s in self.pool[:t]:
                r = await actor.sign(pid, s.pk, bls.sign(s.sk, msg))
                out.expect(r.ok, "actor records member signatures", f"{r.reason}: {r.detail}")
            done = await actor.execute(pid)
            out.record(actor_workflow_ms=(time.perf_counter() - start) * 1e3)
            out.expect(done.ok, "approved proposal executes", f"{done.reason}: {done.detail}")
            again = await actor.execute(pid)
            out.expect(not again.ok, "execution happens exactly once", "actor executed twice")
            status = await actor.status(pid)
            out.expect(
                status.ok and status.value.get("state") == "executed", "status reports execution"
            )
            out.expect(actor.failures == 0, "rejections are answers, not actor crashes",
                       f"{actor.failures} failures")  # fmt: skip
            self.ctx.events.emit("governance_actor_checked", self.name, processed=actor.processed)

    @harness_test("proposal_workflow", timeout_s=120)
    async def test_node_rpc_workflow(self, out: Outcome) -> None:
        """gov_* over JSON-RPC on a real node process; replay protection survives SIGKILL."""
        async with self.target.rpc_session(
            self.ctx.workdir, self.ctx.events, authorities=self.gov.federation_size,
            seed=self.ctx.seed, command=self.config.network.node_command,
        ) as node:  # fmt: skip
            keys = node.authority_keys
            status = await node.call("gov_status")
            fed = status["federation"]
            out.require(
                fed["members"] == ["0x" + pk.hex() for _, pk in keys],
                "node federation is the spec's authorities",
            )
            t = fed["threshold"]
            pid, nonce = f"rpc{self._next_nonce()}", self._nonce
            start = time.perf_counter()
            res = await node.call(
                "gov_propose", {"id": pid, "nonce": nonce, "payload": "0x" + b"fee=7".hex()}
            )
            message = bytes.fromhex(res["message"][2:])

            async def sign(sk: bytes, pk: bytes) -> str:
                return await node.error_of(
                    "gov_sign", pid, "0x" + pk.hex(), "0x" + bls.sign(sk, message).hex()
                )

            outsider = self.pool[-1]
            err = await sign(outsider.sk, outsider.pk)
            out.expect(err.startswith("-32010 not_member"), "only members may sign",
                       f"outsider over RPC: {err}")  # fmt: skip
            for sk, pk in keys[: t - 1]:
                out.require(await sign(sk, pk) == "accepted", "members may sign")
            err = await node.error_of("gov_execute", pid)
            out.expect(err.startswith("-32010 insufficient"), "threshold is enforced",
                       f"{t - 1} of {t} over RPC: {err}")  # fmt: skip
            out.require(await sign(*keys[t - 1]) == "accepted", "members may sign")
            receipt = await node.call("gov_execute", pid)
            out.record(rpc_workflow_ms=(time.perf_counter() - start) * 1e3, rpc_threshold=t)
            out.expect(
                receipt.get("proposal_id") == pid, "approved proposal executes", str(receipt)
            )
            self.ctx.events.emit("fault", self.name, kind="sigkill", node=node.name, phase="start")
            await node.restart(kill=True)  # SIGKILL, then start again on the same datadir
            self.ctx.events.emit("fault", self.name, kind="sigkill", node=node.name, phase="end")
            err = await node.error_of("gov_execute", pid)
            out.expect(err.startswith("-32010 replay"), "execution happens exactly once",
                       f"after SIGKILL: {err}")  # fmt: skip
            err = await node.error_of("gov_propose", {"id": pid + "b", "nonce": nonce})
            out.expect(err.startswith("-32010 replay"), "replay protection",
                       f"nonce reuse after SIGKILL: {err}")  # fmt: skip
            status = await node.call("gov_status")
            out.expect(
                status["executed"] == 1, "executions survive a SIGKILL", str(status["executed"])
            )
            malformed: list[tuple[str, list[Any]]] = [
                ("gov_propose", [{"id": "m1"}]),
                ("gov_propose", [{"id": "m2", "nonce": "x"}]),
                ("gov_propose", [{"id": "m3", "nonce": 9, "payload": "0xzz"}]),
                ("gov_propose", [{"id": "bad id!", "nonce": 9}]),
                ("gov_sign", ["p", "0x00", "0x00"]),
                ("gov_execute", [{"approval": {"proposal": 1, "signers": [], "signature": "0x"}}]),
                ("gov_status", [12]),
            ]
            answers = [await node.error_of(m, *params) for m, params in malformed]
            unclear = [a for a in answers if not a.startswith(("-32602", "-32010"))]
            out.expect(not unclear, "malformed requests get a clear error", "; ".join(unclear))
            alive = await node.call("gov_status")
            out.expect(alive["executed"] == 1, "malformed requests never crash the node")
