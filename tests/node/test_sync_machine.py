"""Sync state machine (sync/machine.py): every state x every event, then one test per rule.

The scenario: we hold blocks 1..5; peer "a" serves a branch that shares 1..3 with us and
continues 4..15 (a longer fork); peer "b" has the same head. The machine is driven into each of
its states by the same event sequence an adapter would feed it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from alys_node.chain.block import Block
from alys_node.chain.fork_choice import MAX_REORG
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.p2p.protocol import Penalty
from alys_node.sync import actions as act
from alys_node.sync.machine import ForkPhase, SyncMachine
from alys_node.sync.scheduler import RangeScheduler

from .chainkit import build_chain

OUR_HEAD = 5
RANGE_REQ = 1  # request id of a's range 6..15
PROBE_REQ = 2  # request id of the fork probe


@dataclass
class World:
    spec: ChainSpec
    ours: list[Block]  # 1..5
    theirs: list[Block]  # 1..15, forking above 3

    def hashes(self) -> dict[int, bytes]:
        return {0: self.spec.genesis().hash} | {b.height: b.hash for b in self.ours}

    def enc(self, lo: int, hi: int) -> tuple[bytes, ...]:
        return tuple(b.encode() for b in self.theirs if lo <= b.height <= hi)

    def blocks(self, lo: int, hi: int) -> list[Block]:
        return [b for b in self.theirs if lo <= b.height <= hi]


@pytest.fixture(scope="module")
def world(spec: ChainSpec, spec_dir) -> World:
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    ours = build_chain(spec, key, OUR_HEAD)
    theirs = ours[:3] + build_chain(spec, key, 12, parent=ours[2], txs=(b"fork",))
    return World(spec, ours, theirs)


def kinds(actions: list[act.Action]) -> list[str]:
    return [type(a).__name__ for a in actions if not isinstance(a, act.Log)]


def state(m: SyncMachine) -> str:
    fork = m.fork_phase.value if m.fork_phase else "none"
    return f"{fork}/{'importing' if m.importing is not None else 'idle'}"


# -- driving the machine into each state ------------------------------------------------------
def idle(w: World) -> SyncMachine:
    """a's request for 6..15 is in flight; b is known too."""
    m = SyncMachine(w.spec, RangeScheduler(range_size=16, stall_timeout=5.0, committed=OUR_HEAD))
    m.peer_head("a", 15)
    assert kinds(m.poll(0.0, OUR_HEAD)) == ["SendRange"]
    m.request_sent("a", 6, 10, RANGE_REQ)
    m.peer_head("b", 15)
    return m


def importing(w: World) -> SyncMachine:
    m = idle(w)
    assert kinds(m.blocks_arrived("a", RANGE_REQ, w.enc(6, 15), 1.0)) == ["Verify"]
    assert kinds(m.range_checked("a", 6, w.blocks(6, 15), None)) == ["Import"]
    return m


def sending(w: World) -> SyncMachine:
    m = importing(w)
    refused = act.ChainReply(False, OUR_HEAD, "block 6: parent hash mismatch", fork=True)
    assert m.import_done(refused) == [act.SendProbe("a", 1, 5)]
    return m


def awaiting(w: World) -> SyncMachine:
    m = sending(w)
    assert kinds(m.probe_sent(PROBE_REQ, 1.0)) == []
    return m


def loading(w: World) -> SyncMachine:
    m = awaiting(w)
    assert m.blocks_arrived("a", PROBE_REQ, w.enc(1, 5), 2.0) == [act.LoadHashes(0, 5)]
    return m


def verifying(w: World) -> SyncMachine:
    m = loading(w)
    assert m.hashes_loaded(w.hashes()) == [act.VerifyBranch(w.blocks(4, 5))]
    return m


def switching(w: World) -> SyncMachine:
    m = verifying(w)
    assert m.branch_verified(None) == [act.SwitchBranch(3, w.blocks(4, 15), "a")]
    return m


STATES: dict[str, Callable[[World], SyncMachine]] = {
    "none/idle": idle,
    "none/importing": importing,
    "sending/idle": sending,
    "awaiting/idle": awaiting,
    "loading/idle": loading,
    "verifying/idle": verifying,
    "switching/idle": switching,
}

# -- every event -------------------------------------------------------------------------------
Event = Callable[[SyncMachine, World], list[act.Action]]
EVENTS: dict[str, Event] = {
    "peer_head(new c above us)": lambda m, w: m.peer_head("c", 20),
    "peer_gone(a)": lambda m, w: m.peer_gone("a"),
    "peer_gone(b)": lambda m, w: m.peer_gone("b"),
    "poll(after the stall timeout)": lambda m, w: m.poll(100.0, OUR_HEAD),
    "request_sent(b, 16..)": lambda m, w: m.request_sent("b", 16, 5, 9),
    "blocks_arrived(range reply)": lambda m, w: m.blocks_arrived("a", RANGE_REQ, w.enc(6, 15), 3.0),
    "blocks_arrived(probe reply)": lambda m, w: m.blocks_arrived("a", PROBE_REQ, w.enc(1, 5), 3.0),
    "blocks_arrived(probe reply, wrong heights)": lambda m, w: m.blocks_arrived(
        "a", PROBE_REQ, w.enc(2, 5), 3.0
    ),
    "range_checked(good)": lambda m, w: m.range_checked("a", 6, w.blocks(6, 15), None),
    "range_checked(forged)": lambda m, w: m.range_checked("a", 6, w.blocks(6, 15), "bad sig"),
    "import_done(ok)": lambda m, w: m.import_done(act.ChainReply(True, 15)),
    "import_done(fork)": lambda m, w: m.import_done(
        act.ChainReply(False, OUR_HEAD, "parent hash mismatch", fork=True)
    ),
    "import_done(invalid)": lambda m, w: m.import_done(act.ChainReply(False, OUR_HEAD, "bad")),
    "probe_sent(id)": lambda m, w: m.probe_sent(PROBE_REQ, 1.0),
    "probe_sent(peer gone)": lambda m, w: m.probe_sent(None, 1.0),
    "hashes_loaded(shared)": lambda m, w: m.hashes_loaded(w.hashes()),
    "hashes_loaded(nothing shared)": lambda m, w: m.hashes_loaded({}),
    "branch_verified(ok)": lambda m, w: m.branch_verified(None),
    "branch_verified(forged)": lambda m, w: m.branch_verified(0),
    "switch_done(ok)": lambda m, w: m.switch_done(act.ChainReply(True, 15)),
    "switch_done(refused)": lambda m, w: m.switch_done(act.ChainReply(False, OUR_HEAD, "no")),
}

ALL = list(STATES)
FORK_STARTED = ["sending/idle", "awaiting/idle", "loading/idle", "verifying/idle"]
# (event, state) -> (state after, non-log action kinds). Rows list every state; "*" = the rest.
# Anything not listed for an answer event is rule 12: ignored, no action, same state.
TABLE: dict[str, dict[str, tuple[str | None, list[str]]]] = {
    "peer_head(new c above us)": {"*": (None, ["WarmVerifier"])},
    "peer_gone(a)": {
        "sending/idle": ("none/idle", []),  # rule 11: the probe it owed fails, no penalty
        "awaiting/idle": ("none/idle", []),
        "*": (None, []),
    },
    "peer_gone(b)": {"*": (None, [])},
    "poll(after the stall timeout)": {
        "none/idle": (None, ["Cancel", "Penalise", "SendRange"]),  # rule 10: reassigned to b
        "awaiting/idle": ("none/idle", ["Cancel", "Penalise", "SendRange"]),  # rule 13
        "*": (None, []),  # the range has arrived; the probe is not a scheduler request
    },
    "request_sent(b, 16..)": {"*": (None, [])},
    "blocks_arrived(range reply)": {
        "none/idle": (None, ["Verify"]),
        "*": (None, []),  # rule 3: already answered
    },
    "blocks_arrived(probe reply)": {
        "awaiting/idle": ("loading/idle", ["LoadHashes"]),
        "*": (None, []),
    },
    "blocks_arrived(probe reply, wrong heights)": {
        "awaiting/idle": ("none/idle", ["Penalise"]),
        "*": (None, []),
    },
    "range_checked(good)": {
        "none/idle": ("none/importing", ["Import"]),
        "awaiting/idle": ("awaiting/importing", ["Import"]),  # only a switch in the making waits
        "*": (None, []),  # rule 7: one import at a time, none while a switch is prepared
    },
    "range_checked(forged)": {"*": (None, ["Penalise"])},
    "import_done(ok)": {"none/importing": ("none/idle", []), "*": (None, [])},
    "import_done(fork)": {"none/importing": ("sending/idle", ["SendProbe"]), "*": (None, [])},
    "import_done(invalid)": {"none/importing": ("none/idle", ["Penalise"]), "*": (None, [])},
    "probe_sent(id)": {"sending/idle": ("awaiting/idle", []), "*": (None, [])},
    "probe_sent(peer gone)": {"sending/idle": ("none/idle", []), "*": (None, [])},
    "hashes_loaded(shared)": {
        "loading/idle": ("verifying/idle", ["VerifyBranch"]),
        "*": (None, []),
    },
    "hashes_loaded(nothing shared)": {"loading/idle": ("none/idle", ["Penalise"]), "*": (None, [])},
    "branch_verified(ok)": {
        "verifying/idle": ("switching/idle", ["SwitchBranch"]),
        "*": (None, []),
    },
    "branch_verified(forged)": {"verifying/idle": ("none/idle", ["Penalise"]), "*": (None, [])},
    "switch_done(ok)": {"switching/idle": ("none/idle", []), "*": (None, [])},
    "switch_done(refused)": {"switching/idle": ("none/idle", ["Penalise"]), "*": (None, [])},
}


def test_table_covers_every_event():
    assert set(TABLE) == set(EVENTS)
    assert all("*" in row or set(row) >= set(ALL) for row in TABLE.values())
    assert set(FORK_STARTED) <= set(ALL)


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("start", ALL)
def test_every_state_and_event(world, start, event):
    m = STATES[start](world)
    assert state(m) == start
    row = TABLE[event]
    after, expected = row.get(start, row["*"])
    got = EVENTS[event](m, world)
    assert kinds(got) == expected, f"{event} in {start}"
    assert state(m) == (after or start), f"{event} in {start}"


# -- the rules, one by one ----------------------------------------------------------------
def penalties(actions: list[act.Action]) -> list[tuple[str, int, str]]:
    return [(a.peer, a.penalty, a.reason) for a in actions if isinstance(a, act.Penalise)]


def test_rule1_poll_follows_the_published_head(world):
    m = idle(world)
    m.poll(1.0, 12)  # gossip took us to 12 meanwhile
    assert m.sched.committed == 12


def test_rule2_unsendable_request_removes_the_peer(world):
    m = idle(world)
    m.request_sent("b", 16, 5, None)
    assert "b" not in m.sched.peers


def test_rule3_reply_to_nobody_is_ignored(world):
    m = idle(world)
    assert m.blocks_arrived("b", RANGE_REQ, world.enc(6, 15), 1.0) == []  # right id, wrong peer
    assert m.requests() == {("a", RANGE_REQ): (6, 10)}


@pytest.mark.parametrize(
    "raw, why",
    [
        (lambda w: (b"\x00garbage",), "bad range 6"),
        (lambda w: w.enc(7, 15), "expected height 6, got 7"),
        (lambda w: w.enc(6, 15) + w.enc(6, 6), "11 blocks for a request of 10"),
        (lambda w: w.enc(6, 6) + w.enc(8, 8), "expected height 7, got 8"),
    ],
)
def test_rule4_bad_reply_is_penalised_and_reassigned(world, raw, why):
    m = idle(world)
    out = m.blocks_arrived("a", RANGE_REQ, raw(world), 1.0)
    ((peer, penalty, reason),) = penalties(out)
    assert (peer, penalty) == ("a", Penalty.INVALID_BLOCK) and why in reason
    assert reason.startswith("bad range 6: ")
    assert [(a.peer, a.start) for a in m.poll(1.0, OUR_HEAD) if isinstance(a, act.SendRange)] == [
        ("b", 6)
    ]


def test_rule5_empty_reply_is_a_timeout_and_reassigned(world):
    m = idle(world)
    out = m.blocks_arrived("a", RANGE_REQ, (), 1.0)
    assert penalties(out) == [("a", Penalty.TIMEOUT, "empty range at 6")]
    assert [a.peer for a in m.poll(1.0, OUR_HEAD) if isinstance(a, act.SendRange)] == ["b"]


def test_rule6_forged_range_is_penalised_and_reassigned(world):
    m = idle(world)
    m.blocks_arrived("a", RANGE_REQ, world.enc(6, 15), 1.0)
    out = m.range_checked("a", 6, world.blocks(6, 15), "invalid signature in block 9")
    assert penalties(out) == [
        ("a", Penalty.INVALID_BLOCK, "forged range 6: invalid signature in block 9")
    ]
    assert [a.peer for a in m.poll(1.0, OUR_HEAD) if isinstance(a, act.SendRange)] == ["b"]


def test_rule7_ranges_import_in_height_order_one_at_a_time(world, spec, spec_dir):
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    chain = build_chain(spec, key, 40)
    m = SyncMachine(spec, RangeScheduler(range_size=16, per_peer=4, committed=0))
    m.peer_head("a", 40)
    sent = [a for a in m.poll(0.0, 0) if isinstance(a, act.SendRange)]
    assert [(a.start, a.count) for a in sent] == [(1, 16), (17, 16), (33, 8)]
    for i, a in enumerate(sent):
        m.request_sent("a", a.start, a.count, 10 + i)
    blocks = {a.start: chain[a.start - 1 : a.start - 1 + a.count] for a in sent}
    for i, a in enumerate(sent):
        m.blocks_arrived("a", 10 + i, tuple(b.encode() for b in blocks[a.start]), 1.0)
    assert kinds(m.range_checked("a", 33, blocks[33], None)) == []  # waits for 1 and 17
    assert kinds(m.range_checked("a", 17, blocks[17], None)) == []
    assert m.range_checked("a", 1, blocks[1], None)[-1] == act.Import("a", 1, blocks[1])
    assert m.import_done(act.ChainReply(True, 16))[-1] == act.Import("a", 17, blocks[17])
    assert m.import_done(act.ChainReply(True, 32))[-1] == act.Import("a", 33, blocks[33])
    assert kinds(m.import_done(act.ChainReply(True, 40))) == [] and m.ready() == {}


def test_rule7_range_below_the_head_is_dropped(world):
    m = idle(world)
    m.blocks_arrived("a", RANGE_REQ, world.enc(6, 15), 1.0)
    m.poll(1.0, 15)  # gossip already brought us to 15
    assert kinds(m.range_checked("a", 6, world.blocks(6, 15), None)) == []
    assert m.ready() == {}


def test_rule8_refusal_while_a_probe_runs_is_penalised_bad_range(world):
    m = awaiting(world)
    m.blocks_arrived("b", 99, (), 1.0)  # irrelevant noise
    m.range_checked("b", 6, world.blocks(6, 15), None)
    out = m.import_done(act.ChainReply(False, OUR_HEAD, "parent hash mismatch", fork=True))
    assert penalties(out) == [("b", Penalty.BAD_RANGE, "range 6: parent hash mismatch")]
    assert m.fork_phase is ForkPhase.AWAITING


def test_rule8_other_refusal_is_penalised_invalid_block(world):
    m = importing(world)
    out = m.import_done(act.ChainReply(False, OUR_HEAD, "block 6: invalid signature"))
    assert penalties(out) == [("a", Penalty.INVALID_BLOCK, "range 6: block 6: invalid signature")]


def test_rule9_full_fork_switch_advances_the_head(world):
    m = switching(world)
    assert m.switch_done(act.ChainReply(True, 15)) == []
    assert m.sched.committed == 15 and not m.syncing


@pytest.mark.parametrize(
    "stage, fail, reason",
    [
        (
            awaiting,
            lambda m, w: m.blocks_arrived("a", PROBE_REQ, w.enc(1, 4), 1.0),
            "wrong heights",
        ),
        (awaiting, lambda m, w: m.blocks_arrived("a", PROBE_REQ, (b"x",), 1.0), ""),
        (
            loading,
            lambda m, w: m.hashes_loaded({}),
            f"no common ancestor within {MAX_REORG} blocks",
        ),
        (verifying, lambda m, w: m.branch_verified(1), "invalid signature in block 5"),
        (switching, lambda m, w: m.switch_done(act.ChainReply(False, 5, "too deep")), "too deep"),
    ],
    ids=["wrong-heights", "undecodable", "no-ancestor", "forged-probe", "chain-refused"],
)
def test_rule9_any_failure_penalises_bad_range_and_refetches(world, stage, fail, reason):
    m = stage(world)
    ((peer, penalty, why),) = penalties(fail(m, world))
    assert (peer, penalty) == ("a", Penalty.BAD_RANGE)
    assert why.startswith("fork switch failed: ") and reason in why
    assert m.fork_phase is None
    assert [a.start for a in m.poll(1.0, OUR_HEAD) if isinstance(a, act.SendRange)] == [6]


def test_rule10_stall_cancels_and_penalises_timeout(world):
    m = idle(world)
    out = m.poll(100.0, OUR_HEAD)
    assert act.Cancel("a", RANGE_REQ) in out
    assert penalties(out) == [("a", Penalty.TIMEOUT, "range 6 stalled")]
    assert m.requests() == {}


@pytest.mark.parametrize("reassign", [True, False], ids=["reassign", "seeded-no-range-reassign"])
def test_rule11_departed_peer_takes_its_requests(world, reassign):
    m = SyncMachine(
        world.spec, RangeScheduler(range_size=16, reassign=reassign, committed=OUR_HEAD)
    )
    m.peer_head("a", 15)
    m.poll(0.0, OUR_HEAD)
    m.request_sent("a", 6, 10, RANGE_REQ)
    m.peer_head("b", 15)
    m.peer_gone("a")
    assert m.requests() == {}
    again = [a.peer for a in m.poll(1.0, OUR_HEAD) if isinstance(a, act.SendRange)]
    assert again == (["b"] if reassign else [])


def test_rule13_unanswered_probe_is_cancelled_and_the_range_refetched(world):
    m = awaiting(world)  # probe sent at t=1 with a 5 s stall timeout
    assert m.poll(5.9, OUR_HEAD) == [] and m.fork_phase is ForkPhase.AWAITING
    out = m.poll(6.0, OUR_HEAD)
    assert out[0] == act.Cancel("a", PROBE_REQ)
    assert penalties(out) == [("a", Penalty.TIMEOUT, "fork probe below 6 unanswered")]
    assert m.fork_phase is None
    assert [(a.peer, a.start) for a in out if isinstance(a, act.SendRange)] == [("b", 6)]
    assert m.blocks_arrived("a", PROBE_REQ, world.enc(1, 5), 7.0) == []  # a late answer: ignored


def test_the_pure_cores_load_no_io_runtime_or_adapter():
    """Sans-I/O for real: importing the cores (in a fresh interpreter) pulls in no event loop,
    socket, database, process pool, actor runtime or node adapter, even transitively."""
    cores = ["alys_node.sync.machine", "alys_node.sync.scheduler", "alys_node.chain.fork_choice"]
    code = f"import sys, json\nfor m in {cores!r}: __import__(m)\nprint(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    forbidden = {"asyncio", "socket", "sqlite3", "subprocess", "multiprocessing", "aiohttp"}
    forbidden |= {"concurrent.futures", "alys_actors"}
    ours = ("actors", "store", "verification", "rpc", "node", "engine", "governance")
    bad = sorted(
        m for m in loaded if m in forbidden or any(m.startswith(f"alys_node.{p}") for p in ours)
    )
    assert bad == [], bad


def test_rule8_a_fork_at_height_1_needs_no_probe_request(spec, spec_dir):
    """We asked for 1..3, then produced our own block 1 (Aura) before the answer came: the range
    forks at genesis. The wire refuses a request for zero blocks, so the machine goes straight
    to the fork point without asking."""
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    theirs = build_chain(spec, key, 3, txs=(b"theirs",))
    m = SyncMachine(spec, RangeScheduler(range_size=16, committed=0))
    m.peer_head("a", 3)
    assert m.poll(0.0, 0)[-1] == act.SendRange("a", 1, 3)
    m.request_sent("a", 1, 3, 1)
    m.poll(0.5, 1)  # our own block 1 is the head now
    m.blocks_arrived("a", 1, tuple(b.encode() for b in theirs), 1.0)
    assert m.range_checked("a", 1, theirs, None)[-1] == act.Import("a", 1, theirs)
    out = m.import_done(act.ChainReply(False, 1, "parent hash mismatch", fork=True))
    assert out == [act.LoadHashes(0, 0)] and m.fork_phase is ForkPhase.LOADING
    assert m.hashes_loaded({0: spec.genesis().hash}) == [act.VerifyBranch([])]
    assert m.branch_verified(None) == [act.SwitchBranch(0, theirs, "a")]
