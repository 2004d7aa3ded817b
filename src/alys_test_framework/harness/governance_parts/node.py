"""The workflow through the node: GovernanceActor on an ActorSystem, and gov_* JSON-RPC on a
real node process (with a SIGKILL in the middle)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from alys_node.crypto import bls

from ..base import Outcome, harness_test
from .common import (
    NOW,
    TTL,
    GovernanceHarnessBase,
)


class NodeTests(GovernanceHarnessBase):
    @harness_test("proposal_workflow", timeout_s=60)
    async def test_actor_workflow(self, out: Outcome) -> None:
        """The same workflow through the node's GovernanceActor on a real ActorSystem."""
        from alys_actors import ActorSystem
        from alys_node.governance.actor import Execute, Propose, Sign, Status

        ledger = self._ledger()
        t = ledger.federation.threshold
        async with ActorSystem("governance-harness", seed=self.ctx.seed) as system:
            ref = await self.target.spawn_actor(system, ledger, lambda: NOW)
            self._nonce += 1
            pid = f"actor{self._nonce}"
            start = time.perf_counter()
            reply = await ref.ask(
                Propose(pid, self._nonce, payload=b"param=2", expiry=NOW + TTL), timeout=10
            )
            out.require(
                reply.ok, "actor accepts a valid proposal", f"{reply.reason}: {reply.detail}"
            )
            msg = bytes.fromhex(reply.value["message"][2:])
            outsider = self.pool[-1]
            bad = await ref.ask(
                Sign(pid, outsider.pk, self.target.crypto.sign(outsider.sk, msg)), timeout=10
            )
            out.expect(not bad.ok, "only members may sign", "actor accepted an outsider")
            for s in self.pool[:t]:
                r = await ref.ask(Sign(pid, s.pk, self.target.crypto.sign(s.sk, msg)), timeout=10)
                out.expect(r.ok, "actor records member signatures", f"{r.reason}: {r.detail}")
            done = await ref.ask(Execute(pid), timeout=10)
            out.record(actor_workflow_ms=(time.perf_counter() - start) * 1e3)
            out.expect(done.ok, "approved proposal executes", f"{done.reason}: {done.detail}")
            again = await ref.ask(Execute(pid), timeout=10)
            out.expect(not again.ok, "execution happens exactly once", "actor executed twice")
            status = await ref.ask(Status(pid), timeout=10)
            out.expect(
                status.ok and status.value.get("state") == "executed", "status reports execution"
            )
            out.expect(ref.stats.failures == 0, "rejections are answers, not actor crashes",
                       f"{ref.stats.failures} failures")  # fmt: skip
            self.ctx.events.emit(
                "governance_actor_checked", self.name, processed=ref.stats.processed
            )

    @harness_test("proposal_workflow", timeout_s=120)
    async def test_node_rpc_workflow(self, out: Outcome) -> None:
        """gov_* over JSON-RPC on a real node process; replay protection survives SIGKILL."""
        from alys_node.chain.spec import AuthorityKey

        from ...targets.cluster import RpcError
        from ...targets.cluster.fixture import ChainFixture, NodeTarget

        command = getattr(self.target, "node_command", None) or self.config.network.node_command
        root = Path(self.ctx.workdir) / "governance-node"
        n = self.gov.federation_size
        fixture = ChainFixture(
            NodeTarget.parse(command, command),
            root,
            self.ctx.events,
            authorities=n,
            chain_id="alys-gov",
        )
        await fixture.init_spec()
        keys = [AuthorityKey.load(fixture.key_file(i)) for i in range(n)]
        cluster = fixture.new_cluster("governance", seed=self.ctx.seed)

        async def rpc_error(method: str, *params: Any) -> str:
            try:
                await node.call(method, *params)
            except RpcError as exc:
                return f"{exc.code} {exc.rpc_message}"
            return "accepted"

        try:
            node = await cluster.add_node(fixture.follower_args(bug=False))
            status = await node.call("gov_status")
            fed = status["federation"]
            out.require(
                fed["members"] == ["0x" + k.public_key.hex() for k in keys],
                "node federation is the spec's authorities",
            )
            t = fed["threshold"]
            self._nonce += 1
            pid, nonce = f"rpc{self._nonce}", self._nonce
            start = time.perf_counter()
            res = await node.call(
                "gov_propose", {"id": pid, "nonce": nonce, "payload": "0x" + b"fee=7".hex()}
            )
            message = bytes.fromhex(res["message"][2:])
            outsider = self.pool[-1]
            err = await rpc_error(
                "gov_sign",
                pid,
                "0x" + outsider.pk.hex(),
                "0x" + bls.sign(outsider.sk, message).hex(),
            )
            out.expect(
                err.startswith("-32010 not_member"),
                "only members may sign",
                f"outsider over RPC: {err}",
            )
            for k in keys[: t - 1]:
                await node.call(
                    "gov_sign",
                    pid,
                    "0x" + k.public_key.hex(),
                    "0x" + bls.sign(k.secret_key, message).hex(),
                )
            err = await rpc_error("gov_execute", pid)
            out.expect(
                err.startswith("-32010 insufficient"),
                "threshold is enforced",
                f"{t - 1} of {t} over RPC: {err}",
            )
            k = keys[t - 1]
            await node.call(
                "gov_sign",
                pid,
                "0x" + k.public_key.hex(),
                "0x" + bls.sign(k.secret_key, message).hex(),
            )
            receipt = await node.call("gov_execute", pid)
            out.record(rpc_workflow_ms=(time.perf_counter() - start) * 1e3, rpc_threshold=t)
            out.expect(
                receipt.get("proposal_id") == pid, "approved proposal executes", str(receipt)
            )
            self.ctx.events.emit("fault", self.name, kind="sigkill", node=node.name, phase="start")
            await cluster.restart(0, kill=True)  # SIGKILL, then start again on the same datadir
            self.ctx.events.emit("fault", self.name, kind="sigkill", node=node.name, phase="end")
            err = await rpc_error("gov_execute", pid)
            out.expect(
                err.startswith("-32010 replay"),
                "execution happens exactly once",
                f"after SIGKILL: {err}",
            )
            err = await rpc_error("gov_propose", {"id": pid + "b", "nonce": nonce})
            out.expect(
                err.startswith("-32010 replay"),
                "replay protection",
                f"nonce reuse after SIGKILL: {err}",
            )
            status = await node.call("gov_status")
            out.expect(
                status["executed"] == 1, "executions survive a SIGKILL", str(status["executed"])
            )
            malformed = [
                ("gov_propose", {"id": "m1"}),
                ("gov_propose", {"id": "m2", "nonce": "x"}),
                ("gov_propose", {"id": "m3", "nonce": 9, "payload": "0xzz"}),
                ("gov_propose", {"id": "bad id!", "nonce": 9}),
                ("gov_sign", "p", "0x00", "0x00"),
                ("gov_execute", {"approval": {"proposal": 1, "signers": [], "signature": "0x"}}),
                ("gov_status", 12),
            ]
            answers = [await rpc_error(m, *params) for m, *params in malformed]
            unclear = [a for a in answers if not a.startswith(("-32602", "-32010"))]
            out.expect(not unclear, "malformed requests get a clear error", "; ".join(unclear))
            alive = await node.call("gov_status")
            out.expect(alive["executed"] == 1, "malformed requests never crash the node")
        finally:
            await cluster.close()
        shutil.rmtree(root, ignore_errors=True)  # kept on failure for the logs
