"""Checkpoints, sync states and failure schedules for the sync and cluster properties.

Checkpoints follow K1–K3 of docs/CHAIN_RULES.md, computed from a generated chain with the
oracle's digests; each invalid variant breaks one of them. A failure schedule is a list of
timed faults over a cluster (partition, corruption, signature failure, disconnection, delay),
the vocabulary of the fault proxy, so a property can say "for any such schedule …".
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from ..oracles.chain import ChainOracle, CheckpointView
from .chain import Chain, chains

FAULT_KINDS = ("partition", "corruption", "signature_failure", "disconnection", "delay")


def checkpoints_of(chain: Chain) -> list[CheckpointView]:
    """The checkpoints K1–K3 demand of ``chain``'s main branch."""
    blocks = list(chain.blocks)
    digests = ChainOracle(chain.spec).digests(blocks)
    ci = chain.spec.checkpoint_interval
    return [CheckpointView(h, blocks[h].hash, digests[h]) for h in range(ci, len(blocks), ci)]


@dataclass(frozen=True)
class CheckpointCase:
    chain: Chain
    checkpoints: tuple[CheckpointView, ...]
    broken: str | None = None  # the K rule this list breaks, None when valid

    def __repr__(self) -> str:
        hs = [c.height for c in self.checkpoints]
        return f"CheckpointCase({self.chain!r}, heights={hs}, broken={self.broken})"


@st.composite
def checkpoint_cases(draw: st.DrawFn, valid: bool | None = None) -> CheckpointCase:
    """A chain and its checkpoint list; invalid ones break K1 (missing, extra), K2 (hash) or
    K3 (digest) and say which."""
    chain = draw(chains(max_height=16, max_forks=0).filter(
        lambda c: c.head.height >= c.spec.checkpoint_interval))  # fmt: skip
    cps = checkpoints_of(chain)
    if valid if valid is not None else draw(st.booleans()):
        return CheckpointCase(chain, tuple(cps))
    how = draw(st.sampled_from(["missing", "extra", "hash", "digest"]))
    i = draw(st.integers(0, len(cps) - 1))
    c = cps[i]
    if how == "missing":
        return CheckpointCase(chain, tuple(cps[:i] + cps[i + 1 :]), "K1")
    if how == "extra":
        h = c.height + 1
        return CheckpointCase(
            chain, tuple([*cps, CheckpointView(h, chain.blocks[h].hash, c.digest)]), "K1"
        )
    if how == "hash":
        bad = CheckpointView(c.height, bytes(x ^ 1 for x in c.hash), c.digest)
        return CheckpointCase(chain, tuple(cps[:i] + [bad] + cps[i + 1 :]), "K2")
    bad = CheckpointView(c.height, c.hash, bytes(x ^ 1 for x in c.digest))
    return CheckpointCase(chain, tuple(cps[:i] + [bad] + cps[i + 1 :]), "K3")


@dataclass(frozen=True)
class SyncState:
    """What a syncing node knows: its committed head, its peers' heads and requests in flight
    (S1: ranges of at most ``range_size``, ≤ 4 in flight per peer, inside a 4,096-block window)."""

    head: int
    peer_heads: tuple[int, ...]
    in_flight: tuple[tuple[int, int, int], ...]  # (peer, start, count)
    range_size: int = 128

    @property
    def target(self) -> int:
        return max(self.peer_heads, default=self.head)


@st.composite
def sync_states(draw: st.DrawFn, max_peers: int = 6) -> SyncState:
    head = draw(st.integers(0, 20_000))
    peers = tuple(draw(st.lists(st.integers(0, head + 5_000), min_size=1, max_size=max_peers)))
    flights: list[tuple[int, int, int]] = []
    start = head + 1
    for p, ph in enumerate(peers):
        for _ in range(draw(st.integers(0, 4))):
            if start > min(ph, head + 4096):
                break
            count = min(128, ph - start + 1, head + 4096 - start + 1)
            flights.append((p, start, count))
            start += count
    return SyncState(head, peers, tuple(flights))


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULT_KINDS
    node: int
    at_s: float  # offset from the schedule start
    duration_s: float
    peer: int | None = None  # the other end, for link faults

    def __repr__(self) -> str:
        link = f"{self.node}-{self.peer}" if self.peer is not None else str(self.node)
        return f"{self.kind}@{self.at_s:g}s+{self.duration_s:g}s[{link}]"


@st.composite
def failure_schedules(
    draw: st.DrawFn,
    nodes: int = 3,
    max_faults: int = 4,
    horizon_s: float = 5.0,
    kinds: tuple[str, ...] = FAULT_KINDS,
) -> tuple[Fault, ...]:
    """Faults ordered by start time; every fault ends inside the horizon (schedules heal)."""
    out = []
    for _ in range(draw(st.integers(0, max_faults))):
        node = draw(st.integers(0, nodes - 1))
        peer = (node + draw(st.integers(1, nodes - 1))) % nodes if nodes > 1 else None
        at = draw(st.integers(0, int(horizon_s * 10) - 1)) / 10
        dur = draw(st.integers(1, max(1, int((horizon_s - at) * 10)))) / 10
        out.append(Fault(draw(st.sampled_from(kinds)), node, at, dur, peer))
    return tuple(sorted(out, key=lambda f: (f.at_s, f.node)))
