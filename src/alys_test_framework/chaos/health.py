"""SystemHealthMonitor: samples every node's ``node_health`` and head while the run goes on.

Rules: a sample is ``{t, node, ok, state, height}``; a node that does not answer is sampled as
``ok: false, state: "unreachable"``. Samples are facts for the report (availability per node,
the unhealthy windows), never a verdict by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from ..targets.cluster import NodeCluster


class SystemHealthMonitor:
    def __init__(self, cluster: NodeCluster, interval_s: float = 0.5) -> None:
        self.cluster = cluster
        self.interval_s = interval_s
        self.samples: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def sample(self) -> list[dict[str, Any]]:
        async def one(i: int) -> dict[str, Any]:
            node = self.cluster.nodes[i]
            t = time.time()
            if node.state == "paused":
                return {"t": t, "node": node.name, "ok": False, "state": "paused"}
            try:
                h, head = await asyncio.gather(node.call_raw("node_health", timeout_s=2),
                                               node.call("chain_head", timeout_s=2))  # fmt: skip
                return {"t": t, "node": node.name, "ok": bool(h.get("ok")),
                        "state": h.get("state"), "height": int(head["height"])}  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - an unhealthy node is a sample, not a crash
                return {"t": t, "node": node.name, "ok": False, "state": "unreachable",
                        "error": str(exc)[:120]}  # fmt: skip

        got = await asyncio.gather(*(one(i) for i in range(len(self.cluster.nodes))))
        self.samples += got
        return list(got)

    async def _loop(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def availability(self) -> dict[str, float]:
        out: dict[str, list[bool]] = {}
        for s in self.samples:
            out.setdefault(s["node"], []).append(bool(s["ok"]))
        return {n: round(sum(v) / len(v), 4) for n, v in out.items() if v}
