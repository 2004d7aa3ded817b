"""Sync machine under arbitrary interleavings: a Hypothesis-driven adapter that answers (or
never answers) every action at random, in any order, with good, garbage or hostile data.

Whatever the order, the machine must never raise and must keep its promises: at most one import
and one fork answer outstanding, no import while a switch is being prepared, every import starts
at or below head + 1 and covers it, and every penalty is one of the protocol's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from alys_node.chain.block import Block
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.p2p.protocol import Penalty
from alys_node.sync import actions as act
from alys_node.sync.machine import ForkPhase, SyncMachine
from alys_node.sync.scheduler import RangeScheduler

from .chainkit import build_chain

PEERS = ("a", "b", "c")
PENALTIES = {v for k, v in vars(Penalty).items() if k.isupper()}
PREPARING = {ForkPhase.SENDING, ForkPhase.LOADING, ForkPhase.VERIFYING, ForkPhase.SWITCHING}
ANSWERS = (act.SendRange, act.Import, act.SendProbe, act.LoadHashes, act.VerifyBranch)


@dataclass
class Driver:
    spec: ChainSpec
    ours: list[Block]
    theirs: list[Block]
    m: SyncMachine
    head: int
    now: float = 0.0
    wire: list[tuple[str, int, int, int]] = field(default_factory=list)  # peer, id, start, n
    verifying: list[act.Verify] = field(default_factory=list)
    waiting: list[act.Action] = field(default_factory=list)  # actions owed an answer
    next_id: int = 0

    def feed(self, actions: list[act.Action]) -> None:
        for a in actions:
            self.check(a)
            if isinstance(a, act.Verify):
                self.verifying.append(a)
            elif isinstance(a, (*ANSWERS, act.SwitchBranch)):
                self.waiting.append(a)

    def check(self, a: act.Action) -> None:
        owed = [w for w in self.waiting if isinstance(w, act.Import)]
        forking = [w for w in self.waiting if not isinstance(w, act.SendRange | act.Import)]
        assert len(owed) <= 1 and len(forking) <= 1, self.waiting
        if isinstance(a, act.Import):
            assert not owed and self.m.fork_phase not in PREPARING
            assert a.start <= self.head + 1 < a.start + len(a.blocks)
        if isinstance(a, act.Penalise):
            assert a.penalty in PENALTIES

    def answer(self, i: int, variant: int) -> None:
        """Answer the i-th owed action (an adapter may answer them in any order)."""
        a = self.waiting.pop(i % len(self.waiting))
        m = self.m
        if isinstance(a, act.SendRange):
            self.next_id += 1
            rid = None if variant % 5 == 0 else self.next_id
            if rid is not None:
                self.wire.append((a.peer, rid, a.start, a.count))
            self.feed(m.request_sent(a.peer, a.start, a.count, rid))
        elif isinstance(a, act.SendProbe):
            self.next_id += 1
            rid = None if variant % 5 == 0 else self.next_id
            if rid is not None:
                self.wire.append((a.peer, rid, a.start, a.count))
            self.feed(m.probe_sent(rid, self.now))
        elif isinstance(a, act.Import):
            ok, fork = variant % 4 < 2, variant % 4 == 2
            if ok:
                self.head = max(self.head, a.blocks[-1].height)
            self.feed(m.import_done(act.ChainReply(ok, self.head, "refused", fork)))
        elif isinstance(a, act.LoadHashes):
            hashes = {b.height: b.hash for b in self.ours if a.start <= b.height <= a.end}
            self.feed(m.hashes_loaded(hashes if variant % 2 else {}))
        elif isinstance(a, act.VerifyBranch):
            self.feed(m.branch_verified(None if variant % 2 or not a.blocks else 0))
        elif isinstance(a, act.SwitchBranch):
            ok = variant % 2 == 0
            if ok:
                self.head = max(self.head, a.blocks[-1].height)
            self.feed(m.switch_done(act.ChainReply(ok, self.head, "refused")))

    def deliver(self, i: int, variant: int) -> None:
        peer, rid, start, count = self.wire.pop(i % len(self.wire))
        chain = self.theirs if variant // 6 % 2 else self.ours + self.theirs[len(self.ours) :]
        blocks = [b.encode() for b in chain if start <= b.height < start + count]
        raw = [blocks, blocks, blocks, blocks[1:], [b"junk"], []][variant % 6]
        self.feed(self.m.blocks_arrived(peer, rid, tuple(raw), self.now))

    def verified(self, i: int, variant: int) -> None:
        v = self.verifying.pop(i % len(self.verifying))
        self.feed(self.m.range_checked(v.peer, v.start, v.blocks, None if variant % 3 else "bad"))


# ops: 0 peer head, 1 peer gone, 2 time passes, 3 answer any owed action, 4 a reply arrives,
# 5 a verification ends, 6 answer the oldest owed action; weighted towards progress
OP = st.sampled_from([0, 1, 2, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6])
OPS = st.lists(st.tuples(OP, st.integers(0, 50), st.integers(0, 50)), min_size=30, max_size=100)


@settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(ops=OPS)
def test_any_interleaving_keeps_the_machines_promises(spec, spec_dir, ops):
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    ours, theirs = _chains(spec, key)
    m = SyncMachine(spec, RangeScheduler(range_size=16, stall_timeout=5.0, committed=5))
    d = Driver(spec, ours, theirs, m, head=5)
    for op, i, variant in ops:
        if op == 0:
            d.feed(m.peer_head(PEERS[i % 3], 5 + variant))
        elif op == 1:
            d.feed(m.peer_gone(PEERS[i % 3]))
        elif op == 2:
            d.now += variant / 5
            d.feed(m.poll(d.now, d.head))
        elif op == 3 and d.waiting:
            d.answer(i, variant)
        elif op == 4 and d.wire:
            d.deliver(i, variant)
        elif op == 5 and d.verifying:
            d.verified(i, variant)
        elif op == 6 and d.waiting:  # the adapter answers the oldest first, as SyncActor does
            d.answer(0, variant)
        d.feed(m.poll(d.now, d.head))  # as SyncActor does after every event
        if m.fork_phase is not None:
            event(f"fork {m.fork_phase.value}")
        if m.importing is not None:
            event("importing")
    event(f"head advanced: {d.head > 5}")


_CACHE: dict[str, tuple[list[Block], list[Block]]] = {}


def _chains(spec: ChainSpec, key: AuthorityKey) -> tuple[list[Block], list[Block]]:
    """Ours 1..5; theirs shares 1..3 and runs to 55 (built once: signing is the slow part)."""
    if "c" not in _CACHE:
        ours = build_chain(spec, key, 5)
        _CACHE["c"] = ours, ours[:3] + build_chain(spec, key, 52, parent=ours[2], txs=(b"f",))
    return _CACHE["c"]
