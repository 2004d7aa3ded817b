"""Byzantine peers: a peer serving well-formed blocks signed by a non-authority (rewritten in
the proxy, so the protocol itself is perfect) must be refused and banned, and honest sync must
still complete; and the Byzantine catalogue (targets/cluster/byzantine_catalogue.py) — an
invalid input for every chain and wire rule of docs/CHAIN_RULES.md, on every path it applies
to — played by a real TCP peer against one victim, each case judged by the rule it breaks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ...oracles.chain import ChainOracle, OBlock, OracleSpec
from ...targets.cluster.byzantine import BlockForger
from ...targets.cluster.byzantine_catalogue import (
    VERIFY_BATCH,
    ByzCase,
    CaseResult,
    Forge,
    catalogue,
    keys_from_files,
    run_case,
)
from ...targets.cluster.fixture import ChainFixture, attached_cluster
from ...targets.cluster.measure import chain_mismatches, sample_heights
from ...targets.cluster.observe import BanObservation, observed_ban
from ...waiting import WaitTimeout, report_progress, wait_until
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.base import SAMPLES


class ByzantineTests(SyncHarnessBase):
    @harness_test("byzantine")
    async def test_byzantine_peer_rejected(self, out: Outcome) -> None:
        """A peer serving well-formed blocks signed by a non-authority is refused and banned."""
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "byzantine") as c:
            honest, byz = await self._sources(c, 2, h)
            f = await self._follower(c)
            seed = self.ctx.seed
            assert c.proxy is not None
            since = time.monotonic()
            lie = c.proxy.apply([(byz, f)], "byzantine", rewriter=lambda: BlockForger(seed=seed))
            await c.connect(f, byz)  # the victim meets the liar first and alone
            bans_seen = c.nodes[f].profile.serves("admin_bans")
            ban: BanObservation | None = None
            seen: dict[str, Any] = {}

            async def judged() -> bool:
                seen["height"] = await c.nodes[f].height()
                seen["bans"] = await c.nodes[f].call("admin_bans")
                return bool(seen["bans"]) or seen["height"] >= h

            if bans_seen:
                try:
                    await wait_until(
                        judged, self.timeout_s, "victim bans the liar or imports",
                        observe=lambda: seen,
                    )  # fmt: skip
                except WaitTimeout as exc:
                    out.fail("byzantine peer banned", str(exc))
            else:  # a ban seen as behaviour: the liar's connection ends, reconnects refused
                ban = await observed_ban(c, f, byz, timeout_s=self.timeout_s, clear=lie,
                                         since=since)  # fmt: skip
                out.record(ban=ban.to_json())
            await c.connect(f, honest)
            await self._sync_or_fail(out, c, f, "correct chain synced despite a byzantine peer", h)
            forged = sorted({b for r in c.proxy.rewriters for b in r.forged_heights})
            out.record(blocks=h, forged_blocks_served=len(forged))
            out.require(bool(forged), "the byzantine peer served forged blocks", "none served")
            picks = [forged[i - 1] for i in sample_heights(len(forged), SAMPLES)]
            bad = await chain_mismatches(c.nodes[f], c.nodes[honest], picks)
            out.expect(
                not bad, "forged blocks rejected", f"{len(bad)} forged blocks kept: {bad[:3]}"
            )
            await self._check_chain(out, c, f, honest, h)
            if ban is not None:
                if ban.banned is None:  # what could be measured was; the ban itself was not
                    out.unsupported(
                        f"forged blocks were rejected; whether the liar was banned: {ban.evidence}"
                    )
                out.expect(bool(ban.banned), "byzantine peer banned", ban.evidence)
                return
            bans = await c.nodes[f].call("admin_bans")
            out.record(bans=bans)
            out.expect(bool(bans), "byzantine peer banned", "victim's ban list is empty")

    @harness_test("byzantine")
    async def test_byzantine_catalogue(self, out: Outcome) -> None:
        """Every rule's invalid input on every path, against one victim on a two-authority
        chain (so producer rotation is a rule too): the bad block is never imported, the
        sender is banned, or only penalised where P5 says so, and afterwards every block the
        victim kept is valid per the oracle and an honest node syncs all of it. Each failure
        names the case's rule id (B1–B6, C3, C4, E1, W1–W4, P1–P5, S2, F1)."""
        self._needs(out, "admin_bans", "admin_peers", "node_status", "chain_getBlockByHeight")
        fx = self._catalogue_fixture()
        spec_dir = await fx.init_spec()
        spec = OracleSpec.load(fx.spec_file)
        forge = Forge(spec, keys_from_files([str(spec_dir / f"authority-{i}.key") for i in (0, 1)]))
        cases = harness_cases(catalogue(fx.authorities))
        results: list[CaseResult] = []
        async with attached_cluster(fx, out, "byzantine_catalogue") as c:
            victim = await c.add_node(fx.follower_args())
            for case in cases:
                report_progress("catalogue case", f"{len(results) + 1}/{len(cases)} {case.id}")
                res = await run_case(
                    case, spec=spec, victim_p2p=("127.0.0.1", victim.p2p_port),
                    victim_rpc=victim.call, honest=[], forge=forge, timeout_s=CASE_TIMEOUT_S,
                )  # fmt: skip
                results.append(res)
                for v in res.violations:
                    out.fail(f"[{v.rule}] byzantine case {case.id}", str(v))
                if res.violations and self.config.fail_fast:
                    break  # --fail-fast: the first broken rule is the verdict
            top = int((await victim.call("chain_head"))["height"])
            chain = [
                OBlock.from_json(await victim.call("chain_getBlockByHeight", h))
                for h in range(top + 1)
            ]
            for v in ChainOracle(spec).judge_chain(chain)[:5]:
                out.fail(f"[{v.rule}] victim's chain valid after the catalogue", str(v))
            honest = await c.add_node(fx.follower_args())
            await c.connect(honest.index, victim.index)
            await self._sync_or_fail(
                out, c, honest.index, "honest sync of the victim's chain completes", top,
                share=0.25,
            )  # fmt: skip
        by_rule: dict[str, int] = {}
        for r in results:
            by_rule[r.case.rule] = by_rule.get(r.case.rule, 0) + 1
        out.record(
            cases=len(results),
            cases_by_rule=by_rule,
            cases_failed=sum(bool(r.violations) for r in results),
            senders_banned=sum(r.banned for r in results),
            victim_chain_blocks=top + 1,
            slowest_cases={
                r.case.id: round(r.seconds, 2)
                for r in sorted(results, key=lambda r: -r.seconds)[:8]
            },
            case_results=[r.to_json() for r in results if r.violations][:20],
        )
        out.expect(bool(results), "catalogue played", "no case ran")

    def _catalogue_fixture(self) -> ChainFixture:
        """A chain of its own with two authorities: with one, every slot is the producer's
        and the slot-owner rule (B3) and a second authority's signature (B1) have no case."""
        return ChainFixture(
            self.target,
            Path(self.ctx.workdir) / "sync-byzantine",
            self.ctx.events,
            authorities=2,
            checkpoint_interval=self.fixture.checkpoint_interval,
            seed=self.ctx.seed,
            stall_s=self.stall_s,
            recording=self.fixture.recording,
        )


CASE_TIMEOUT_S = 8.0  # the victim's own stall deadline (5 s by default) must fit in a case
_BIG = VERIFY_BATCH + 16


def harness_cases(cases: list[ByzCase]) -> list[ByzCase]:
    """The cases a phase run plays (the whole catalogue is the slow tier's): every rule on
    gossip, on a range of one, in the middle of a few and last of more than one verification
    batch, every frame, handshake, withholding and flapping case; equivocation last (it leaves
    two blocks for one slot that later cases must not build on)."""
    keep = [
        c
        for c in cases
        if c.path != "range"
        or not c.spoil
        or (c.size, c.position) in ((1, "first"), (5, "middle"), (_BIG, "last"))
    ]
    return sorted(keep, key=lambda c: c.path == "equivocation")
