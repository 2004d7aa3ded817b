"""Pure helpers over measured latencies and partition shapes (no sockets, no nodes)."""

from __future__ import annotations

import statistics
from typing import Any

from ....targets.cluster import Partition

HOP_FACTOR = 10.0  # a gossip hop may be this many times slower than the first hop (median)
HOP_FLOOR_S = 0.05  # ... but never has to beat 50 ms (scheduling noise on a loaded machine)


def slow_hops(lat: dict[int, list[float]], all_in: bool = True) -> tuple[float, dict[int, float]]:
    """(per-hop bound, {hop distance: median latency}) for nodes slower than distance x bound.

    Node i of the line is i hops from the producer; the bound is measured, not assumed: a
    multiple of the first hop's median latency in the same run. With ``all_in=False`` nothing
    is reported yet (too few blocks to call a median).
    """
    if not all_in or not lat.get(1):
        return 0.0, {}
    hop = max(HOP_FLOOR_S, HOP_FACTOR * statistics.median(lat[1]))
    med = {i: statistics.median(vs) for i, vs in lat.items() if vs}
    return hop, {i: round(m, 4) for i, m in med.items() if m > i * hop}


def component(start: int, n: int, shape: Partition) -> set[int]:
    """Nodes reachable from ``start`` over allowed links (multi-hop)."""
    seen, todo = {start}, [start]
    while todo:
        a = todo.pop()
        for b in range(n):
            if b not in seen and shape.allows(a, b):
                seen.add(b)
                todo.append(b)
    return seen


def height_of(head: Any) -> int:
    return head[0] if isinstance(head, tuple) else -1
