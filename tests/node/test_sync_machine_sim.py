"""The sync machine in a seeded, virtual-time simulation: a follower, two honest peers, one that
never answers a request (but stays connected) and one that forges a signature in every range.

Because the machine is sans-I/O the whole run is a loop over a heap of timed events: no sockets,
no sleeps, the same seed gives the same trace. Signatures are judged against the honest chain
(the simulation is the oracle), imports by the real fork-choice rules.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from alys_node.chain import fork_choice as fc
from alys_node.chain.block import Block
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.p2p.protocol import Penalty
from alys_node.sync import actions as act
from alys_node.sync.machine import SyncMachine
from alys_node.sync.scheduler import RangeScheduler

from .chainkit import build_chain

HEIGHT = 240
HONEST = ("h1", "h2")
STALLER, FORGER = "staller", "forger"
BAN_SCORE = -100
TICK_S = 0.25
DEADLINE_S = 120.0  # virtual seconds


@pytest.fixture(scope="module")
def chain(spec: ChainSpec, spec_dir) -> list[Block]:
    return build_chain(spec, AuthorityKey.load(spec_dir / "authority-0.key"), HEIGHT)


@dataclass
class Sim:
    """``chains``: what each peer serves; ``ours``: what the follower holds at the start."""

    spec: ChainSpec
    chains: dict[str, list[Block]]
    seed: int
    ours: list[Block] = field(default_factory=list)
    reassign: bool = True
    rng: random.Random = field(init=False)
    now: float = 0.0
    events: list[tuple[float, int, Callable[[], list[act.Action]]]] = field(default_factory=list)
    seq: int = 0
    next_req: int = 0
    scores: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    trace: list[act.Action] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.store = {0: self.spec.genesis()} | {b.height: b for b in self.ours}
        self.head = fc.Head.of(self.store[max(self.store)])
        self.honest = {b.hash: b.signature for c in self.chains.values() for b in c}
        sched = RangeScheduler(
            range_size=32, stall_timeout=5.0, reassign=self.reassign, committed=self.head.height
        )
        self.m = SyncMachine(self.spec, sched)

    def at(self, delay: float, fn: Callable[[], list[act.Action]]) -> None:
        self.seq += 1
        heapq.heappush(self.events, (self.now + delay, self.seq, fn))

    def serve(self, peer: str, start: int, count: int) -> tuple[bytes, ...]:
        chain = self.chains[peer]
        blocks = chain[start - 1 : start - 1 + count]
        if peer == FORGER and blocks:
            i = self.rng.randrange(len(blocks))
            blocks = [*blocks[:i], dataclasses.replace(blocks[i], signature=b"\x11" * 96)]
            blocks += chain[start + i : start - 1 + count]
        return tuple(b.encode() for b in blocks)

    def first_forged(self, blocks: list[Block]) -> int | None:
        return next((i for i, b in enumerate(blocks) if self.honest[b.hash] != b.signature), None)

    def ask(self, peer: str, start: int, count: int) -> int | None:
        """A request on the wire: the reply (if any) arrives after a seeded latency."""
        if peer in self.gone:
            return None
        self.next_req += 1
        rid = self.next_req
        if peer != STALLER:
            raw = self.serve(peer, start, count)
            self.at(
                self.rng.uniform(0.01, 0.2), lambda: self.m.blocks_arrived(peer, rid, raw, self.now)
            )
        return rid

    def adopt(self, ancestor: int, blocks: list[Block]) -> None:
        for h in [h for h in self.store if h > ancestor]:
            del self.store[h]
        self.store.update({b.height: b for b in blocks})
        self.head = fc.Head.of(blocks[-1])

    def switch(self, a: act.SwitchBranch) -> act.ChainReply:
        refused = fc.admit_branch(self.head.height, a.ancestor, a.blocks) or fc.check_branch(
            self.store[a.ancestor], a.blocks, self.spec
        )
        if refused is not None:
            return act.ChainReply(False, self.head.height, refused.reason)
        self.adopt(a.ancestor, a.blocks)
        return act.ChainReply(True, self.head.height)

    def perform(self, a: act.Action) -> list[act.Action]:
        self.trace.append(a)
        m = self.m
        if isinstance(a, act.SendRange):
            return m.request_sent(a.peer, a.start, a.count, self.ask(a.peer, a.start, a.count))
        if isinstance(a, act.SendProbe):
            return m.probe_sent(self.ask(a.peer, a.start, a.count), self.now)
        if isinstance(a, act.Verify):
            i = self.first_forged(a.blocks)
            bad = None if i is None else f"invalid signature in block {a.blocks[i].height}"
            self.at(0.01, lambda: m.range_checked(a.peer, a.start, a.blocks, bad))
        elif isinstance(a, act.VerifyBranch):
            return m.branch_verified(self.first_forged(a.blocks))
        elif isinstance(a, act.LoadHashes):
            hashes = {h: b.hash for h, b in self.store.items() if a.start <= h <= a.end}
            return m.hashes_loaded(hashes)
        elif isinstance(a, act.SwitchBranch):
            return m.switch_done(self.switch(a))
        elif isinstance(a, act.Import):
            plan = fc.plan_import(self.head, a.blocks, self.spec)
            if isinstance(plan, fc.Rejected):
                reply = act.ChainReply(False, self.head.height, plan.reason, plan.fork)
                return m.import_done(reply)
            if isinstance(plan, fc.Extend):
                self.adopt(self.head.height, plan.blocks)
            return m.import_done(act.ChainReply(True, self.head.height))
        elif isinstance(a, act.Penalise):
            self.scores[a.peer] = self.scores.get(a.peer, 0) + a.penalty
            if self.scores[a.peer] <= BAN_SCORE and a.peer not in self.gone:
                self.gone.add(a.peer)  # banned: the network drops it and tells sync
                self.at(0.0, lambda: m.peer_gone(a.peer))
        return []

    def run(self, actions: list[act.Action]) -> None:
        queue = list(actions)
        while queue:
            queue[:0] = self.perform(queue.pop(0))

    def tick(self) -> list[act.Action]:
        self.at(TICK_S, self.tick)
        return []

    def go(self, tip: Block) -> float | None:
        """Virtual seconds until the follower's head is ``tip``, or None by the deadline."""
        for p, c in self.chains.items():
            self.run(self.m.peer_head(p, c[-1].height))
        self.at(0.0, self.tick)
        while self.events and self.now < DEADLINE_S:
            self.now, _, fn = heapq.heappop(self.events)
            self.run(fn())
            self.run(self.m.poll(self.now, self.head.height))
            if self.head.hash == tip.hash:
                return self.now
        return None

    def penalties(self, peer: str) -> set[int]:
        return {a.penalty for a in self.trace if isinstance(a, act.Penalise) and a.peer == peer}

    def count(self, kind: type) -> int:
        return sum(1 for a in self.trace if isinstance(a, kind))


def adversarial(spec: ChainSpec, chain: list[Block], seed: int, reassign: bool = True) -> Sim:
    peers = dict.fromkeys((*HONEST, STALLER, FORGER), chain)
    return Sim(spec, peers, seed, reassign=reassign)


@pytest.mark.parametrize("seed", range(6))
def test_sync_completes_despite_a_staller_and_a_forger(spec, chain, seed):
    sim = adversarial(spec, chain, seed)
    took = sim.go(chain[-1])
    assert took is not None, f"stuck at {sim.head.height} of {HEIGHT}"
    assert sim.penalties(FORGER) == {Penalty.INVALID_BLOCK} and FORGER in sim.gone
    assert sim.penalties(STALLER) == {Penalty.TIMEOUT}
    assert all(not sim.penalties(p) for p in HONEST)


def test_same_seed_same_trace(spec, chain):
    a, b = adversarial(spec, chain, 7), adversarial(spec, chain, 7)
    assert a.go(chain[-1]) == b.go(chain[-1]) and a.trace == b.trace


def test_seeded_bug_no_range_reassign_gets_stuck_on_the_staller(spec, chain):
    stuck = [adversarial(spec, chain, seed, reassign=False).go(chain[-1]) for seed in range(3)]
    assert stuck == [None, None, None]


@pytest.mark.parametrize("seed", range(4))
def test_a_longer_fork_is_found_and_switched_to_once(spec, spec_dir, chain, seed):
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    ours = chain[:40]  # we followed another branch up to 40; the peers' forks at 30, to 100
    theirs = chain[:30] + build_chain(spec, key, 70, parent=chain[29], txs=(b"other",))
    sim = Sim(spec, {"h1": theirs, "h2": theirs, FORGER: theirs}, seed, ours=ours)
    assert sim.go(theirs[-1]) is not None, f"stuck at {sim.head.height}"
    assert sim.count(act.SwitchBranch) == 1
    assert [b.hash for h, b in sorted(sim.store.items()) if h] == [b.hash for b in theirs]
    assert all(not sim.penalties(p) for p in ("h1", "h2"))


def test_a_fork_deeper_than_max_reorg_is_refused(spec, spec_dir, chain):
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    depth = fc.MAX_REORG + 10
    ours = chain[: 10 + depth]
    theirs = chain[:10] + build_chain(spec, key, depth + 30, parent=chain[9], txs=(b"deep",))
    sim = Sim(spec, {"h1": theirs}, 0, ours=ours)
    assert sim.go(theirs[-1]) is None and sim.head.hash == ours[-1].hash
    assert Penalty.BAD_RANGE in sim.penalties("h1")  # no common block in the probe window
