"""Checkpoints: made every interval, identical on every node whatever path the blocks took,
hashes matching the blocks, the interval following the chain spec, and acknowledged blocks
surviving SIGKILL (sync resumes, not restarts); a tampered store is refused at start."""

from __future__ import annotations

import time
from typing import Any

from ...targets.cluster import ClusterError
from ...targets.cluster.fixture import ChainFixture, attached_cluster
from ...targets.cluster.measure import blocks_at, follow_sync, sample_heights
from ...waiting import WaitTimeout
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase, tamper_store

RESUME_BYTES_FACTOR = 1.25  # bytes after a restart, per missing block, vs before the kill
RANGE_SLACK_BLOCKS = 128  # one request range of slack (handshake, a range in flight at restart)


class _Killed(Exception):
    """Stops follow_sync right after the harness SIGKILLed the node it was following."""


class CheckpointTests(SyncHarnessBase):
    @harness_test("checkpoints")
    async def test_checkpoint_consistency(self, out: Outcome) -> None:
        self._needs(out, "chain_getCheckpoints")
        k = self.config.sync.checkpoint_interval
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "checkpoints") as c:
            [src] = await self._sources(c, 1, h)
            f1, f2 = await self._follower(c), await self._follower(c)
            await c.connect(f1, src)
            await c.connect(f2, f1)  # second hand: checkpoints must not depend on the path
            try:
                await c.wait_heads_in_sync(self.timeout_s, min_height=h)
            except WaitTimeout as exc:
                out.require(False, "followers synced", str(exc))
            cps = {i: await c.nodes[i].call("chain_getCheckpoints") for i in (src, f1, f2)}
            want = list(range(k, h + 1, k))
            heights = [cp["height"] for cp in cps[src]]
            out.record(blocks=h, checkpoints=len(heights), interval=k)
            out.expect(
                heights == want, "checkpoints every interval", f"{heights[:5]}... != {want[:5]}..."
            )
            same = all(cps[i] == cps[src] for i in (f1, f2))
            out.expect(same, "checkpoints identical across nodes", "followers' lists differ")
            picks = [want[i - 1] for i in sample_heights(len(want), 50)]
            blocks = await blocks_at(c.nodes[src], picks)
            byh = {cp["height"]: cp["hash"] for cp in cps[src]}
            wrong = [x for x in picks if (blocks[x] or {}).get("hash") != byh.get(x)]
            out.expect(not wrong, "checkpoint hashes match the blocks", f"heights {wrong[:5]}")

    @harness_test("checkpoints")
    async def test_checkpoint_interval_configurable(self, out: Outcome) -> None:
        """Each interval of ``sync.checkpoint_intervals`` (the original's 10 and 250 by default)
        and half the configured one: a chain spec with it, checkpoints at exactly k, 2k, 3k."""
        self._needs(out, "chain_getCheckpoints")
        sc = self.config.sync
        k2 = max(2, sc.checkpoint_interval // 2)
        seen: dict[int, list[int]] = {}
        for k in sorted({k2, *sc.checkpoint_intervals}):
            other = ChainFixture(
                self.target, self.fixture.root / f"interval-{k}", self.ctx.events,
                checkpoint_interval=k, seed=self.ctx.seed, cache_dir=self.fixture.cache_dir,
                stall_s=self.stall_s, recording=self.fixture.recording,
            )  # fmt: skip
            top = 3 * k + 1
            await other.template(top)
            async with attached_cluster(other, out, f"interval-{k}") as c:
                node = await c.add_node(
                    other.follower_args(), datadir=other.copy_template(top, c.root / "n")
                )
                seen[k] = [cp["height"] for cp in await node.call("chain_getCheckpoints")]
        ok = [k for k, hs in seen.items() if hs == [k, 2 * k, 3 * k]]
        out.record(interval=k2, checkpoints=seen.get(k2), intervals_exercised=sorted(seen),
                   intervals_ok=ok, checkpoints_by_interval={str(k): v for k, v in seen.items()})  # fmt: skip
        for k, hs in seen.items():
            out.expect(
                hs == [k, 2 * k, 3 * k],
                f"checkpoint interval {k} follows the chain spec",
                f"{hs}",
            )

    @harness_test("checkpoints")
    async def test_recovery_after_sigkill(self, out: Outcome) -> None:
        """SIGKILL mid-sync: every block acknowledged over RPC survives; sync resumes, not restarts."""
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "sigkill") as c:
            [src] = await self._sources(c, 1, h)
            f = await self._follower(c)
            self._cap_links(c, [src], f, seconds=2.5, height=h)
            state: dict[str, Any] = {}

            async def on_height(height: int) -> None:
                if not state and height >= h // 2:
                    state["acked"] = height
                    state["killed_at"] = time.time()
                    await c.kill(f)
                    raise _Killed

            await c.connect(f, src)
            try:
                await follow_sync(c, f, h, self.timeout_s, on_height=on_height)
            except _Killed:
                pass
            except WaitTimeout as exc:
                out.require(False, "killed mid-sync", str(exc))
            out.require("acked" in state, "killed mid-sync", f"state {state}")
            assert c.proxy is not None
            sent_before = c.proxy.stats_for(src, f).bytes
            await c.restart(f)
            h_restart = await c.nodes[f].height()
            out.record(blocks=h, acked_height=state["acked"], height_after_restart=h_restart)
            out.expect(
                h_restart >= state["acked"],
                "acknowledged blocks survive SIGKILL",
                f"acked {state['acked']}, {h_restart} after restart",
            )
            # blocks acknowledged before the kill must still carry their first receipt time
            old = sample_heights(state["acked"], 50)
            blocks = await blocks_at(c.nodes[f], old)
            stamps = {x: (blocks[x] or {}).get("received_at") for x in old}
            if any(v is not None for v in stamps.values()):
                killed_at = state["killed_at"]
                fresh = [x for x, v in stamps.items() if float(v or 1e18) >= killed_at]
                out.expect(
                    not fresh,
                    "sync resumes without re-downloading stored blocks",
                    f"re-fetched {fresh[:5]}",
                )
            else:
                out.record(received_at="not served by the node: judged by bytes only")
            if await self._sync_or_fail(out, c, f, "sync completes after restart", h) is not None:
                after = c.proxy.stats_for(src, f).bytes - sent_before
                # what the missing blocks cost, from the bytes per block before the kill (which
                # include ranges still in flight, so the estimate errs on the generous side),
                # plus one range of slack; re-downloading the stored half would be twice that
                bpb = sent_before / max(1, state["acked"])
                budget = bpb * ((h - h_restart) * RESUME_BYTES_FACTOR + RANGE_SLACK_BLOCKS)
                out.record(
                    bytes_before_kill=sent_before, bytes_after_restart=after,
                    bytes_budget_after_restart=round(budget),
                )  # fmt: skip
                out.expect(
                    after <= budget,
                    "sync resumes without re-downloading stored blocks",
                    f"{after} bytes after restart for {h - h_restart} missing blocks "
                    f"(budget {budget:.0f})",
                )
                await self._check_chain(out, c, f, src, h)

    @harness_test("checkpoints")
    async def test_store_corruption_detected(self, out: Outcome) -> None:
        h = self.scenario_height
        async with attached_cluster(self.fixture, out, "corrupt-store") as c:
            [src] = await self._sources(c, 1, h)
            await c.stop(src)
            where = tamper_store(c.nodes[src].datadir, h // 2)
            out.record(tampered=where)
            try:
                await c.restart(src, kill=False)
            except ClusterError as exc:
                refused = str(exc)
                out.record(refusal=refused[-300:])
                # refused it is; a refusal must be a clear error, not a crash on bad data
                out.expect(
                    "Traceback" not in refused,
                    "tampered store refused at start with a clear error",
                    refused[-300:],
                )
                return
            blocks = await blocks_at(c.nodes[src], [h // 2])
            got = blocks[h // 2] or {}
            out.fail(
                "tampered store refused at start",
                f"node started and serves block {got.get('hash')} from an edited store",
            )
