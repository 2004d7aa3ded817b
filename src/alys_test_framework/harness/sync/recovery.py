"""Recovery scenarios: one sync SIGKILLed and restarted at every phase of a sync, each phase a
measured fact from the request log and the node's RPC, not a guess.

Phases (in this order, in one sync):
1. ``before_first_range``: the follower has sent its first range request and no reply has
   reached it (the proxy holds the reply direction from the moment the request passes);
2. ``mid_range``: past a third of the chain, with range requests still owed to it;
3. ``after_import_before_checkpoint``: past two thirds, its head above its last checkpoint and
   not on a checkpoint height (blocks imported that no checkpoint covers yet).

After each restart the follower's head is at least the head it reported before the kill (D2),
and its checkpoints are exactly every interval up to that head (K1); at the end it holds the
source's chain. The checkers judge the whole history (durability, checkpoints, chain).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ...targets.cluster import NodeCluster
from ...targets.cluster.fixture import attached_cluster
from ...targets.cluster.measure import follow_sync
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import SyncHarnessBase
from .kit.wire import RangeLog, RangeRequest

ONE_SOURCE_S = 6.0


class _Killed(Exception):
    """Stops follow_sync right after the harness SIGKILLed the node."""


class RecoveryTests(SyncHarnessBase):
    @harness_test("checkpoints")
    async def test_recovery_scenarios(self, out: Outcome) -> None:
        self._needs(out, "chain_getCheckpoints")
        h = self.scenario_height
        k = self.config.sync.checkpoint_interval
        log = RangeLog()
        async with attached_cluster(self.fixture, out, "recovery") as c:
            [src] = await self._sources(c, 1, h)
            f = await self._follower(c)
            assert c.proxy is not None
            proxy = c.proxy
            self._cap_links(c, [src], f, seconds=ONE_SOURCE_S, height=h)
            proxy.apply([(f, src)], "range-log", rewriter=log.asks(f, src))
            proxy.apply([(src, f)], "range-log", rewriter=log.answers(f, src))
            first = asyncio.Event()
            held: list[Any] = []

            def hold(_: RangeRequest) -> None:  # runs in the proxy before the source sees it
                if not held:
                    held.append(proxy.apply([(src, f)], "hold-replies", partitioned=True))
                    first.set()

            log.on_request = hold
            phases: dict[str, dict[str, Any]] = {}
            await c.connect(f, src)
            await wait_until(first.is_set, self.timeout_s, "first range request sent")
            log.on_request = None
            phases["before_first_range"] = await self._restart(
                c, f, out, k, height=await c.nodes[f].height(),
                answered=sum(r.answered_at is not None for r in log.of(f)),
                owed=len(log.outstanding(f)),
            )  # fmt: skip
            proxy.clear(held[0])

            async def mid_range(height: int) -> None:
                if height >= h // 3 and log.outstanding(f):
                    phases["mid_range"] = {"height": height, "owed": len(log.outstanding(f))}
                    raise _Killed

            async def before_checkpoint(height: int) -> None:
                if height >= 2 * h // 3 and height % k:
                    cps = [cp["height"] for cp in await c.nodes[f].call("chain_getCheckpoints")]
                    if max(cps, default=0) < height:
                        phases["after_import_before_checkpoint"] = {
                            "height": height,
                            "last_checkpoint": max(cps, default=0),
                        }
                        raise _Killed

            for name, hook in (("mid_range", mid_range),
                               ("after_import_before_checkpoint", before_checkpoint)):  # fmt: skip
                try:
                    await follow_sync(c, f, h, self.timeout_s, on_height=hook)
                except _Killed:
                    phases[name] = await self._restart(c, f, out, k, **phases[name])
                except WaitTimeout as exc:
                    out.require(False, f"sync reaches the {name} phase", str(exc))
            out.record(blocks=h, interval=k, restarts=phases)
            out.expect(
                phases["before_first_range"]["answered"] == 0
                and phases["before_first_range"]["height"] == 0,
                "the first restart landed before the first range",
                f"{phases['before_first_range']}",
            )
            curve = await self._sync_or_fail(out, c, f, "sync completes after every restart", h)
            if curve is not None:
                await self._check_chain(out, c, f, src, h)

    async def _restart(
        self, c: NodeCluster, f: int, out: Outcome, k: int, **before: Any
    ) -> dict[str, Any]:
        """SIGKILL, start again on the same datadir; judge what survived (D2, K1)."""
        before["height"] = max(before.get("height", 0), await _height_or(c, f, 0))
        await c.kill(f)
        await c.restart(f)
        after = await c.nodes[f].height()
        cps = [cp["height"] for cp in await c.nodes[f].call("chain_getCheckpoints")]
        before.update(height_after_restart=after, checkpoints_after_restart=len(cps))
        out.expect(
            after >= before["height"],
            "the reported head survives a restart at every phase of a sync",
            f"head {before['height']} before the kill, {after} after",
        )
        out.expect(
            cps == list(range(k, after + 1, k)),
            "checkpoints after a restart are every interval up to the head",
            f"{cps[-3:]} for head {after}",
        )
        return before


async def _height_or(c: NodeCluster, i: int, default: int) -> int:
    try:
        return await c.nodes[i].height()
    except Exception:  # a node that cannot answer right now reported nothing newer
        return default
