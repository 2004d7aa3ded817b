"""What every mechanism shares: the run context it acts on and the result it reports.

Rules:
1. A mechanism turns one ``ChaosEvent`` into a real fault (``start``), measures the fault's
   effect on the running cluster (``measure``, called when the window closes, before the fault
   is lifted) and lifts it (``stop``). ``stop`` is called on every path.
2. ``unavailable()`` returns ``None`` when the mechanism works on this machine, else the reason
   and what to install: the event is then reported ``unsupported``, never skipped or passed.
3. An effect that was not observed is a failed injection (the fault did not bite), not a pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...targets.cluster import NodeCluster, RpcError, RpcUnavailable
from ..cleanup import CleanupJournal
from ..events import ChaosEvent

if TYPE_CHECKING:
    from ...targets.cluster.history_recorder import HistoryRecorder


@dataclass
class ChaosContext:
    cluster: NodeCluster
    journal: CleanupJournal
    workdir: Path
    spec_file: Path
    key_files: list[Path]
    producer: int = 0  # the reference producer: node 0, its datadir on a size-limited tmpfs
    producers: tuple[int, ...] = (0,)  # node i < len(producers) produces with authority key i
    recorder: HistoryRecorder | None = None
    baseline_delay_s: dict[int, float] = field(default_factory=dict)
    run_tag: str = "alys-chaos"
    produce_errors: list[tuple[float, str]] = field(default_factory=list)
    cgroup_parents: set[str] = field(default_factory=set)
    faulty: dict[int, Path] = field(default_factory=dict)  # node -> FUSE control file
    faulty_pids: dict[int, int] = field(default_factory=dict)  # node -> its FUSE daemon
    # cleared while an attacker needs the victim's head to stand still (the workload waits)
    production: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.production.set()

    @property
    def n(self) -> int:
        return len(self.cluster.nodes)

    def others(self, t: int) -> list[int]:
        return [i for i in range(self.n) if i != t]

    def observer(self, t: int) -> int:
        """The node a fault on ``t`` is seen from: ``t`` itself, or (``t`` being the reference
        producer) a follower that produces nothing, whose received_at stamps are all deliveries."""
        if t != self.producer:
            return t
        rest = self.others(t)
        return next((i for i in rest if i not in self.producers), rest[0])


@dataclass
class Effect:
    """What was measured while the fault was active, and whether it shows the fault biting."""

    seen: bool
    summary: str
    measured: dict[str, Any] = field(default_factory=dict)


class Mechanism:
    name = "mechanism"

    def __init__(self, ctx: ChaosContext, event: ChaosEvent) -> None:
        self.ctx = ctx
        self.event = event
        self.target = event.targets[0]
        self.params = event.params

    @classmethod
    def unavailable(cls) -> str | None:
        return None

    async def start(self) -> None:
        raise NotImplementedError

    async def measure(self) -> Effect:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError


async def head(ctx: ChaosContext, i: int) -> int | None:
    try:
        return int((await ctx.cluster.nodes[i].call("chain_head", timeout_s=3))["height"])
    except (RpcError, RpcUnavailable, KeyError, ValueError, TypeError):
        return None


async def delivery_delays(
    ctx: ChaosContext, src: int, dst: int, lo: int, hi: int, since: float = 0.0
) -> list[float]:
    """``received_at(dst) - received_at(src)`` of the blocks both hold in [lo, hi] that ``src``
    received at or after ``since`` (epoch s), from the nodes' own RPC. When ``src`` produces,
    only its own blocks count: another producer's blocks reach ``src`` late themselves."""
    out: list[float] = []
    a, b = ctx.cluster.nodes[src], ctx.cluster.nodes[dst]
    for h in range(max(1, lo), hi + 1):
        try:
            x, y = await asyncio.gather(
                a.call("chain_getBlockByHeight", h, timeout_s=3),
                b.call("chain_getBlockByHeight", h, timeout_s=3),
            )
        except (RpcError, RpcUnavailable):
            continue
        if x and y and x.get("hash") == y.get("hash"):
            if src in ctx.producers and x.get("producer", src) != src:
                continue
            with contextlib.suppress(TypeError, KeyError, ValueError):
                if float(x["received_at"]) >= since:
                    out.append(float(y["received_at"]) - float(x["received_at"]))
    return out


async def delays_during(
    ctx: ChaosContext, dst: int, since: float, lo: int, wait_s: float = 5.0
) -> list[float]:
    """Delivery delays producer -> ``dst`` of blocks produced since ``since``; waits up to
    ``wait_s`` for the first such block to reach ``dst`` (a slowed link delivers late)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_s
    while True:
        hi = await head(ctx, dst) or 0
        got = await delivery_delays(ctx, ctx.producer, dst, lo, hi, since)
        if got or loop.time() >= end:
            return got
        await asyncio.sleep(0.1)


async def reconnect(ctx: ChaosContext, targets: Sequence[int]) -> None:
    """Re-dial every cluster link that touches ``targets`` (a restarted or banned-and-expired
    node is not dialled again by the peers that lost it); already-connected links are no-ops."""
    c = ctx.cluster
    links: dict[int, set[int]] = getattr(c, "_peers", {})
    for a, dsts in list(links.items()):
        todo = [b for b in sorted(dsts) if a in targets or b in targets]
        if not todo:
            continue
        try:  # a dial of a link that is up is refused as a duplicate and may drop the link
            have = {str(p.get("addr")) for p in await c.nodes[a].call("admin_peers", timeout_s=2)}
        except Exception:  # noqa: BLE001 - a node that does not answer is dialled later
            continue
        for b in todo:
            with contextlib.suppress(Exception):
                addr = await c.proxy_address(a, b)
                if addr not in have:
                    await c.nodes[a].call("admin_addPeer", addr, timeout_s=2)


async def connected(ctx: ChaosContext, t: int, timeout_s: float = 10.0) -> int:
    """Wait until node ``t`` has a peer; returns its peer count (0 = never). Nodes re-dial
    lost peers themselves, so the links are re-dialled only once half the time has passed
    (an extra dial racing a node's own one ends as a duplicate connection)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    dialled = False
    while True:
        with contextlib.suppress(Exception):
            n = len(await ctx.cluster.nodes[t].call("admin_peers", timeout_s=2))
            if n > 0:
                return n
        now = loop.time()
        if now - start >= timeout_s:
            return 0
        if not dialled and now - start >= timeout_s / 2:
            dialled = True
            await reconnect(ctx, [t])
        await asyncio.sleep(0.1)


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None
