"""Corrupted blocks in range responses, and the synced chain re-validated from genesis.

One cluster for two tests (see parallel_sessions.SharedRun): a follower syncs from one honest
and two corrupting sources. The proxy flips one signature byte of one block (first, then
middle, then last position) in their replies, inside well-framed bytes, so only the block
rules can catch it.

corrupted_block_handling: corrupted blocks were served; none is in the follower's chain (its
block at each corrupted height equals the honest source's, signature included); each sender
of one is banned (P2: an invalid block costs -100); sync completes.

chain_validation: every block 0..head the follower holds is read back over RPC and judged as a
chain from genesis by the independent oracle (oracles/chain: genesis, links, heights, slots,
producers, tx roots, sizes, every signature, with no signature cache), which never asks the
node. The chain checker judges the recorder's copy; this judges what the node serves now.
"""

from __future__ import annotations

import time
from typing import Any

from ...oracles.chain import ChainOracle, OBlock, OracleSpec
from ...targets.cluster import NodeProcess
from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import blocks_at, chain_mismatches
from ...targets.cluster.profiles import REFERENCE_BLOCK_JSON
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.wire import Corruption, RangeLog, corrupting
from .parallel_sessions import SharedRun

FETCH_PARALLEL = 16


class CorruptedBlockTests(SyncHarnessBase):
    _corrupt: SharedRun | None = None

    async def _corrupt_run(self) -> SharedRun:
        if self._corrupt is None:
            self._corrupt = SharedRun(Outcome())
            await self._corrupt.play(self._run_corrupt)
        return self._corrupt

    async def _run_corrupt(self, run: SharedRun) -> None:
        h = self.scenario_height
        out, log = run.out, RangeLog()
        cor = [Corruption(every=1, limit=3, offset=k) for k in range(2)]
        run.data.update(height=h, corruptions=cor)
        async with attached_cluster(self.fixture, out, "corrupted-blocks") as c:
            honest, *bad = await self._sources(c, 3, h)
            f = await self._follower(c)
            assert c.proxy is not None
            for s, cr in zip(bad, cor, strict=True):
                c.proxy.apply([(s, f)], "corrupt-blocks", rewriter=corrupting(log, f, s, cr))
            for s in (*bad, honest):
                await c.connect(f, s)
            curve = await self._sync_or_fail(
                out, c, f, "sync completes despite corrupted blocks", h
            )
            run.data.update(curve=curve, bad=bad)
            heights = sorted({x for cr in cor for x in cr.heights})
            run.data["kept"] = await chain_mismatches(c.nodes[f], c.nodes[honest], heights)
            run.data["bans"] = await c.nodes[f].call("admin_bans")
            run.data["node_logs"] = c.merged_logs(tail=200)
            if curve is not None:
                await self._check_chain(out, c, f, honest, h)
                if c.nodes[f].profile.supports(REFERENCE_BLOCK_JSON):
                    run.data["validation"] = await self._revalidate(c.nodes[f])

    async def _revalidate(self, node: NodeProcess) -> dict[str, Any]:
        """The follower's whole chain, from genesis, judged by the oracle alone."""
        head = await node.height()
        t0 = time.perf_counter()
        raw = await blocks_at(node, list(range(head + 1)), parallel=FETCH_PARALLEL)
        t1 = time.perf_counter()
        blocks, unreadable = [], []
        for x in range(head + 1):
            try:
                blocks.append(OBlock.from_json(raw[x]))
            except Exception as exc:  # a block the node cannot serve is a gap in its chain
                unreadable.append(f"{x}: {exc}")
        oracle = ChainOracle(OracleSpec.load(self.fixture.spec_file), cache_signatures=False)
        found = oracle.judge_chain(blocks) if not unreadable else []
        t2 = time.perf_counter()
        return {
            "blocks": len(blocks), "violations": [str(v) for v in found], "unreadable": unreadable,
            "fetch_s": round(t1 - t0, 3), "judge_s": round(t2 - t1, 3),
            "oracle_blocks_per_s": round(len(blocks) / max(t2 - t1, 1e-9), 1),
        }  # fmt: skip

    @harness_test("resilience")
    async def test_corrupted_block_handling(self, out: Outcome) -> None:
        run = await self._corrupt_run()
        run.carry(out)
        cor: list[Corruption] = run.data["corruptions"]
        served = sorted({x for cr in cor for x in cr.heights})
        out.record(blocks=run.data["height"], corrupted_heights=served,
                   corrupted_by_source=[len(cr.heights) for cr in cor])  # fmt: skip
        out.require(bool(served), "corrupted blocks were served", "no reply was corrupted")
        kept = run.data.get("kept", [])
        out.expect(not kept, "corrupted blocks rejected", f"{len(kept)} kept: {kept[:3]}")
        bans = run.data.get("bans") or []
        senders = sum(bool(cr.heights) for cr in cor)
        out.record(bans=bans)
        out.expect(
            len(bans) >= senders,
            "every sender of a corrupted block is banned",
            f"{len(bans)} bans for {senders} corrupting senders: {bans}",
        )
        run.logs_if_failed(out)

    @harness_test("checkpoints")
    async def test_chain_validation(self, out: Outcome) -> None:
        self._needs(out, REFERENCE_BLOCK_JSON)  # the oracle decodes blocks in that shape
        run = await self._corrupt_run()
        run.carry(out)
        v = run.data.get("validation")
        out.require(v is not None, "a synced chain to validate", "the sync did not complete")
        assert isinstance(v, dict)
        out.record(
            blocks_validated=v["blocks"], fetch_s=v["fetch_s"], validation_s=v["judge_s"],
            oracle_blocks_per_s=v["oracle_blocks_per_s"],
        )  # fmt: skip
        out.expect(
            not v["unreadable"],
            "every height of the synced chain is served",
            f"{len(v['unreadable'])} unreadable: {v['unreadable'][:3]}",
        )
        out.expect(
            not v["violations"],
            "the synced chain is valid from genesis (oracle)",
            f"{len(v['violations'])} violations: {v['violations'][:3]}",
        )
        out.expect(
            v["blocks"] == run.data["height"] + 1,
            "the re-validated chain reaches the head",
            f"{v['blocks']} blocks for height {run.data['height']}",
        )
        run.logs_if_failed(out)
