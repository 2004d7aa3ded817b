"""Measurements over node RPC shared by the sync and network harnesses.

Every number here comes from what the nodes report (heights, hashes, signatures, the
``received_at`` timestamps the node stamps when it first sees a block) or from the proxy's byte
counters, never from the harness's own expectations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ...waiting import wait_for_progress
from .launcher import NodeCluster
from .node_process import NodeProcess
from .rpc_client import RpcError, RpcUnavailable


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(pct / 100 * (len(s) - 1))))
    return s[k]


def sample_heights(top: int, n: int) -> list[int]:
    """``n`` heights spread over 1..top, always including both ends."""
    if top <= 0:
        return []
    if top <= n:
        return list(range(1, top + 1))
    step = (top - 1) / (n - 1)
    return sorted({1 + round(i * step) for i in range(n)})


async def blocks_at(node: NodeProcess, heights: list[int], parallel: int = 8) -> dict[int, Any]:
    sem = asyncio.Semaphore(parallel)

    async def one(h: int) -> Any:
        async with sem:
            try:
                return await node.call("chain_getBlockByHeight", h)
            except (RpcError, RpcUnavailable) as exc:
                return {"error": str(exc)}

    vals = await asyncio.gather(*(one(h) for h in heights))
    return dict(zip(heights, vals, strict=True))


async def chain_mismatches(
    node: NodeProcess, reference: NodeProcess, heights: list[int]
) -> list[str]:
    """Heights where ``node`` holds a block different from ``reference`` (hash or signature)."""
    mine, ref = await asyncio.gather(blocks_at(node, heights), blocks_at(reference, heights))
    out = []
    for h in heights:
        a, b = mine[h], ref[h]
        if not isinstance(a, dict) or "error" in a or a is None:
            out.append(f"{h}: missing ({a})")
        elif a.get("hash") != (b or {}).get("hash"):
            out.append(f"{h}: hash {a.get('hash')} != {(b or {}).get('hash')}")
        elif a.get("signature") != (b or {}).get("signature"):
            out.append(f"{h}: signature differs from the authority's")
    return out


@dataclass
class SyncCurve:
    """Height of one node over time while it syncs: throughput and stalls."""

    samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.samples[-1][0] - self.samples[0][0] if len(self.samples) > 1 else 0.0

    def blocks_per_s(self) -> float:
        if len(self.samples) < 2 or self.duration_s <= 0:
            return 0.0
        return (self.samples[-1][1] - self.samples[0][1]) / self.duration_s

    def longest_stall_s(self) -> float:
        longest, since = 0.0, None
        for (t0, h0), (t1, h1) in zip(self.samples, self.samples[1:], strict=False):
            if h1 <= h0:
                since = t0 if since is None else since
                longest = max(longest, t1 - since)
            else:
                since = None
        return longest


async def follow_sync(
    cluster: NodeCluster,
    index: int,
    target_height: int,
    timeout_s: float,
    on_height: Callable[[int], Awaitable[None]] | None = None,
    stall_s: float | None = None,
) -> SyncCurve:
    """Sample a node's height until it reaches ``target_height``; ``on_height`` may inject faults.

    A wait for progress: raises ``Stalled`` as soon as the height has not moved for ``stall_s``
    (default: the cluster's), naming the height reached and the node's peers, and
    ``WaitTimeout`` only if progress never ends within ``timeout_s``.
    """
    curve = SyncCurve()
    t0 = time.monotonic()
    node = cluster.nodes[index]
    last = -1

    async def observe() -> int:
        nonlocal last
        try:
            last = await node.height()
        except (RpcError, RpcUnavailable):
            return last  # an unreachable node makes no progress: the stall window runs
        curve.samples.append((time.monotonic() - t0, last))
        if on_height is not None:
            await on_height(last)
        return last

    await wait_for_progress(
        observe,
        lambda h: h >= target_height,
        f"{node.name} sync to height {target_height:,}",
        stall_s=stall_s if stall_s is not None else cluster.stall_s,
        timeout_s=timeout_s,
        context=lambda: cluster.peer_context([index]),
        rule="S4",  # a node behind an honest connected peer must keep rising
    )
    return curve


async def received_span(node: NodeProcess, first: int, last: int) -> float | None:
    """Seconds between the node's own receipt of block ``first`` and block ``last``."""
    blocks = await blocks_at(node, [first, last])
    a, b = blocks[first], blocks[last]
    try:
        return float(b["received_at"]) - float(a["received_at"])
    except (TypeError, KeyError, ValueError):
        return None
