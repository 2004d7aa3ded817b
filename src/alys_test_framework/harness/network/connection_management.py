"""Connection management: the max-peers limit holds against more dialers than it allows, and
peers reconnect by themselves after one of them restarts."""

from __future__ import annotations

import time
from typing import Any

from ...checkers import CheckerBounds
from ...targets.cluster.fixture import attached_cluster
from ...waiting import WaitTimeout, wait_until
from ..base import Outcome, harness_test
from .kit import NetworkHarnessBase

MIN_PEER_SAMPLES = 5  # peer-count samples taken once every dialer has reached the node


class ConnectionManagementTests(NetworkHarnessBase):
    @harness_test("connection_management")
    async def test_max_peers_enforced(self, out: Outcome) -> None:
        self._needs(out, "admin_peers", flags=("max_peers",))
        m = min(self.net.max_peers, 2)
        dialers = m + 2
        # the scenario exceeds node-0's limit on purpose: P4 judges node-0 against ``m``
        bounds = CheckerBounds(convergence_s=self.timeout_s, max_peers={"node-0": m})
        async with attached_cluster(self.fixture, out, "max-peers", bounds=bounds) as c:
            await c.add_node(
                self.fixture.follower_args() + [self.target.profile.flag("max_peers"), str(m)]
            )
            for _ in range(dialers):
                await c.add_node(self.fixture.follower_args())
            for i in range(1, dialers + 1):
                await c.connect(i, 0)
            samples: list[Any] = []
            assert c.proxy is not None
            proxy = c.proxy

            async def all_tried() -> bool:
                samples.append((await self._peer_counts(c, [0]))[0])
                tried = all(proxy.stats_for(i, 0).connections >= 1 for i in range(1, dialers + 1))
                return tried and len(samples) >= MIN_PEER_SAMPLES

            await wait_until(
                all_tried, self.timeout_s, "every dialer reached node-0",
                observe=lambda: {"node-0 peers": samples[-1:]},
            )  # fmt: skip
            counts = [s for s in samples if isinstance(s, int)]
            out.record(max_peers=m, dialers=dialers, peers_max_observed=max(counts, default=None))
            out.expect(
                bool(counts) and max(counts) <= m,
                "max peers held",
                f"node-0 held {max(counts, default=None)} peers with max peers {m}",
            )
            out.expect(bool(counts) and max(counts) >= 1, "connections accepted up to the limit")

    @harness_test("connection_management")
    async def test_reconnect_after_restart(self, out: Outcome) -> None:
        self._needs(out, "admin_peers", "new_blocks")
        async with attached_cluster(self.fixture, out, "reconnect") as c:
            await self._start(c, 2)
            await c.connect(1, 0)
            await self._wait_peered(c, {0: 1, 1: 1})
            await c.restart(0)  # SIGKILL + start on the same datadir
            t0 = time.monotonic()
            try:
                await self._wait_peered(c, {0: 1, 1: 1})
                reconnect_s = time.monotonic() - t0
                h, _ = await self._produce_one(c)
                await c.wait_heads_in_sync(self.timeout_s, min_height=h)
            except WaitTimeout as exc:
                out.fail("peers reconnect after a restart", str(exc))
                return
            out.record(reconnect_s=round(reconnect_s, 3))
            out.expect(reconnect_s <= self.timeout_s, "peers reconnect after a restart")
