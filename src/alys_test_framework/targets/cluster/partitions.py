"""Partition shapes: which node pairs cannot talk (Jepsen's halves, isolate, majority/minority,
ring and bridge). Pure data, so shapes can be checked without sockets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Pair = tuple[int, int]


@dataclass(frozen=True)
class Partition:
    """A named set of node pairs that cannot talk (symmetric)."""

    name: str
    blocked: frozenset[frozenset[int]]
    groups: tuple[tuple[int, ...], ...] = ()

    def allows(self, a: int, b: int) -> bool:
        return frozenset((a, b)) not in self.blocked

    def directed_pairs(self) -> list[Pair]:
        out = []
        for pair in self.blocked:
            a, b = sorted(pair)
            out += [(a, b), (b, a)]
        return sorted(out)

    # shapes --------------------------------------------------------------------------------
    @classmethod
    def between(cls, name: str, *groups: Iterable[int]) -> Partition:
        gs = tuple(tuple(sorted(g)) for g in groups)
        blocked = {
            frozenset((a, b))
            for i, ga in enumerate(gs)
            for gb in gs[i + 1 :]
            for a in ga
            for b in gb
            if a != b
        }
        return cls(name, frozenset(blocked), gs)

    @classmethod
    def halves(cls, n: int) -> Partition:
        return cls.between("halves", range(n // 2), range(n // 2, n))

    @classmethod
    def isolate(cls, n: int, node: int) -> Partition:
        return cls.between(f"isolate-{node}", [node], [i for i in range(n) if i != node])

    @classmethod
    def majority_minority(cls, n: int) -> Partition:
        """Minority = the first floor((n-1)/2) nodes, so the majority holds a strict majority."""
        k = max(1, (n - 1) // 2)
        return cls.between("majority-minority", range(k), range(k, n))

    @classmethod
    def ring(cls, n: int) -> Partition:
        """Each node talks only to its two ring neighbours."""
        blocked = {
            frozenset((a, b))
            for a in range(n)
            for b in range(a + 1, n)
            if (b - a) % n not in (1, n - 1)
        }
        return cls("ring", frozenset(blocked), ())

    @classmethod
    def bridge(cls, n: int) -> Partition:
        """Two halves that only reach each other through one bridge node (the middle one)."""
        mid = n // 2
        left = [i for i in range(mid)]
        right = [i for i in range(mid + 1, n)]
        p = cls.between("bridge", left, right)
        return cls("bridge", p.blocked, (tuple(left), (mid,), tuple(right)))
