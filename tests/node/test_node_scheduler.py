"""Range scheduler state machine driven with virtual time, plus peer reputation."""

from __future__ import annotations

import pytest

from alys_node.p2p.scoring import Reputation
from alys_node.sync.scheduler import RangeScheduler, Request, Stalled


def reqs(actions) -> list[Request]:
    return [a for a in actions if isinstance(a, Request)]


def test_ranges_spread_over_peers_with_per_peer_cap():
    s = RangeScheduler(range_size=10, per_peer=2, stall_timeout=5)
    s.add_peer("a", 100)
    s.add_peer("b", 100)
    s.add_peer("c", 100)
    r = reqs(s.poll(0.0))
    assert [x.start for x in r] == [1, 11, 21, 31, 41, 51]
    assert {x.peer for x in r} == {"a", "b", "c"}
    assert all(sum(1 for x in r if x.peer == p) == 2 for p in "abc")
    assert s.poll(0.1) == []  # everyone is at the cap


def test_window_bounds_lookahead_and_commit_frees_it():
    s = RangeScheduler(range_size=10, per_peer=100, window=30)
    s.add_peer("a", 1000)
    assert [x.start for x in reqs(s.poll(0))] == [1, 11, 21]
    for st in (1, 11, 21):
        s.on_response("a", st, 10)
    assert reqs(s.poll(1)) == []
    s.on_committed(20)
    assert [x.start for x in reqs(s.poll(2))] == [31, 41]


def test_last_range_is_clipped_to_target_and_sync_finishes():
    s = RangeScheduler(range_size=10)
    s.add_peer("a", 15)
    assert [(x.start, x.count) for x in reqs(s.poll(0))] == [(1, 10), (11, 5)]
    assert s.syncing
    s.on_response("a", 1, 10)
    s.on_response("a", 11, 5)
    s.on_committed(15)
    assert not s.syncing and s.poll(1) == []


def test_stalled_range_moves_to_another_peer():
    s = RangeScheduler(range_size=10, per_peer=1, stall_timeout=5)
    s.add_peer("a", 10)
    s.add_peer("b", 10)
    (r,) = reqs(s.poll(0))
    acts = s.poll(5.0)
    assert Stalled(r.peer, 1) in acts
    (again,) = reqs(acts)
    assert again.start == 1 and again.peer != r.peer
    s.on_response(r.peer, 1, 10)  # the late original reply is ignored
    assert s.inflight() == {1: (again.peer, 10)}


def test_dead_peer_ranges_are_reassigned():
    s = RangeScheduler(range_size=10, per_peer=2)
    s.add_peer("a", 40)
    s.add_peer("b", 40)
    r = reqs(s.poll(0))
    dead = [x.start for x in r if x.peer == "a"]
    s.remove_peer("a")
    for x in r:
        if x.peer == "b":
            s.on_response("b", x.start, x.count)
    again = reqs(s.poll(1))
    assert sorted(x.start for x in again) == sorted(dead) and {x.peer for x in again} == {"b"}


def test_invalid_range_avoids_its_sender():
    s = RangeScheduler(range_size=10, per_peer=4)
    s.add_peer("a", 10)
    s.add_peer("b", 10)
    (r,) = reqs(s.poll(0))
    s.on_response(r.peer, 1, 10)
    s.on_invalid(r.peer, 1)
    (again,) = reqs(s.poll(1))
    assert again.start == 1 and again.peer != r.peer


def test_short_response_requeues_the_remainder_and_empty_lowers_head():
    s = RangeScheduler(range_size=10, per_peer=1)
    s.add_peer("a", 10)
    s.poll(0)
    s.on_response("a", 1, 4)
    (r,) = reqs(s.poll(1))
    assert (r.start, r.count) == (5, 6)
    s.on_response("a", 5, 0)  # claimed a head it cannot serve
    assert s.peers["a"].head == 4 and reqs(s.poll(2)) == []


def test_seeded_bug_no_reassign_keeps_asking_the_staller():
    s = RangeScheduler(range_size=10, per_peer=1, stall_timeout=5, reassign=False)
    s.add_peer("a", 10)
    s.add_peer("b", 10)
    (r,) = reqs(s.poll(0))
    acts = s.poll(5)
    assert [x.peer for x in reqs(acts)] == [r.peer]
    s.remove_peer(r.peer)
    assert reqs(s.poll(20)) == []  # the range is stuck with a dead peer forever


def test_commit_from_elsewhere_drops_obsolete_work():
    s = RangeScheduler(range_size=10, per_peer=1)
    s.add_peer("a", 30)
    s.poll(0)
    s.on_response("a", 1, 10)
    s.on_committed(25)  # e.g. gossip moved the head
    (r,) = reqs(s.poll(1))
    assert r.start == 26 and r.count == 5


def test_reputation_bans_at_threshold_and_expires():
    rep = Reputation(ban_seconds=10)
    assert rep.penalise("p", -40, "x", now=0) is None
    assert rep.penalise("p", -40, "y", now=1) is None
    ban = rep.penalise("p", -40, "garbage", now=2)
    assert ban is not None and ban.reason == "garbage" and ban.until == 12
    assert rep.is_banned("p", 5) and [b.addr for b in rep.active(5)] == ["p"]
    assert not rep.is_banned("p", 12) and rep.score("p") == 0
    rep.reward("q", 500)
    assert rep.score("q") == 100


def test_a_reply_restarts_the_deadlines_of_the_peers_queued_requests():
    """Slow link: replies arrive every 3 s for a 5 s timeout; nothing may be declared stalled."""
    s = RangeScheduler(range_size=10, per_peer=4, stall_timeout=5)
    s.add_peer("a", 1000)
    s.poll(0)
    t = 0.0
    for start in (1, 11, 21, 31, 41, 51):
        t += 3.0
        assert not [x for x in s.poll(t - 0.01) if isinstance(x, Stalled)]
        s.on_response("a", start, 10, now=t)
        s.poll(t)


def test_patience_grows_after_a_stall_and_resets_on_reply():
    s = RangeScheduler(range_size=10, per_peer=1, stall_timeout=5)
    s.add_peer("a", 100)
    s.poll(0)
    (again,) = reqs(s.poll(5))  # stalled; only peer, so asked again, with twice the patience
    assert again.start == 1 and s.peers["a"].patience == 2.0
    assert not [x for x in s.poll(14) if isinstance(x, Stalled)]
    assert [x for x in s.poll(15) if isinstance(x, Stalled)]
    s.poll(15)
    s.on_response("a", 1, 10, now=16)
    assert s.peers["a"].patience == 1.0


def test_short_sync_uses_smaller_ranges_so_a_late_peer_gets_a_share():
    s = RangeScheduler(range_size=128, per_peer=4)
    s.add_peer("a", 600)
    first = reqs(s.poll(0))
    assert all(r.count == 38 for r in first) and sum(r.count for r in first) == 152
    s.add_peer("b", 600)
    assert {r.peer for r in reqs(s.poll(0.1))} == {"b"}
    big = RangeScheduler(range_size=128, per_peer=4)
    big.add_peer("a", 10_000)
    assert {r.count for r in reqs(big.poll(0))} == {128}


# -- every range state x every event --------------------------------------------------------
# One range (heights 1..10), peers a and b claiming head 10, per_peer 1, stall timeout 5.
def _fresh(reassign: bool = True) -> RangeScheduler:
    s = RangeScheduler(range_size=10, per_peer=1, stall_timeout=5, reassign=reassign)
    s.add_peer("a", 10)
    return s


def _unassigned(reassign: bool = True) -> RangeScheduler:
    s = _fresh(reassign)
    s.add_peer("b", 10)
    return s


def _inflight_a(reassign: bool = True) -> RangeScheduler:
    s = _fresh(reassign)
    assert reqs(s.poll(0)) == [Request("a", 1, 10)]
    s.add_peer("b", 10)
    return s


def _received(reassign: bool = True) -> RangeScheduler:
    s = _inflight_a(reassign)
    s.on_response("a", 1, 10, now=0.5)
    return s


def _retry(reassign: bool = True) -> RangeScheduler:
    s = _inflight_a(reassign)
    s.on_invalid("a", 1)
    return s


def _committed(reassign: bool = True) -> RangeScheduler:
    s = _received(reassign)
    s.on_committed(10)
    return s


RANGE_STATES = {
    "unassigned": _unassigned,
    "inflight:a": _inflight_a,
    "received": _received,
    "retry": _retry,
    "committed": _committed,
}
RANGE_EVENTS = {
    "poll(before deadline)": lambda s: s.poll(1.0),
    "poll(after deadline)": lambda s: s.poll(10.0),
    "on_response(a, all)": lambda s: s.on_response("a", 1, 10, now=1.0),
    "on_response(a, part)": lambda s: s.on_response("a", 1, 4, now=1.0),
    "on_response(a, none)": lambda s: s.on_response("a", 1, 0, now=1.0),
    "on_response(b, all)": lambda s: s.on_response("b", 1, 10, now=1.0),
    "on_invalid(a)": lambda s: s.on_invalid("a", 1),
    "on_committed(10)": lambda s: s.on_committed(10),
    "remove_peer(a)": lambda s: s.remove_peer("a"),
    "remove_peer(b)": lambda s: s.remove_peer("b"),
    "add_peer(c)": lambda s: s.add_peer("c", 10),
}
_POLLED = {"poll(before deadline)", "poll(after deadline)"}
# state -> event -> (state of the range after, actions); unlisted events leave it as it was.
RANGE_TABLE: dict[str, dict[str, tuple[str, list]]] = {
    "unassigned": {  # rule 3 (b: the least loaded peers tie, taken in turn); replies ignored (7)
        "poll(before deadline)": ("inflight:b", [Request("b", 1, 10)]),
        "poll(after deadline)": ("inflight:b", [Request("b", 1, 10)]),
        "on_committed(10)": ("committed", []),
    },
    "inflight:a": {
        "poll(after deadline)": ("inflight:b", [Stalled("a", 1), Request("b", 1, 10)]),  # 5
        "on_response(a, all)": ("received", []),
        "on_response(a, part)": ("received", []),  # 6: 5..10 goes back to retry
        "on_response(a, none)": ("retry", []),  # 6
        "on_invalid(a)": ("retry", []),  # 8
        "on_committed(10)": ("committed", []),  # 10
        "remove_peer(a)": ("retry", []),  # 9
    },
    "received": {"on_invalid(a)": ("retry", []), "on_committed(10)": ("committed", [])},
    "retry": {  # rule 4 and 8: taken again at once, by the peer that did not fail it
        "poll(before deadline)": ("inflight:b", [Request("b", 1, 10)]),
        "poll(after deadline)": ("inflight:b", [Request("b", 1, 10)]),
        "on_committed(10)": ("committed", []),
    },
    "committed": {},
}


def _range_state(s: RangeScheduler) -> str:
    st = s.state_of(1)
    return f"{st}:{s.inflight()[1][0]}" if st == "inflight" else st


def test_range_table_covers_every_state():
    assert set(RANGE_TABLE) == set(RANGE_STATES)
    assert all(set(row) <= set(RANGE_EVENTS) for row in RANGE_TABLE.values())


@pytest.mark.parametrize("event", list(RANGE_EVENTS))
@pytest.mark.parametrize("start", list(RANGE_STATES))
def test_every_range_state_and_event(start, event):
    s = RANGE_STATES[start]()
    assert _range_state(s) == start
    after, actions = RANGE_TABLE[start].get(event, (start, []))
    got = RANGE_EVENTS[event](s)
    assert (got if event in _POLLED else []) == actions, f"{event} in {start}"
    assert _range_state(s) == after, f"{event} in {start}"


@pytest.mark.parametrize(
    "event, after, actions",
    [
        ("poll(after deadline)", "inflight:a", [Stalled("a", 1), Request("a", 1, 10)]),
        ("remove_peer(a)", "inflight:a", []),  # stuck with a peer that is gone
        ("on_invalid(a)", "retry", []),  # validation failures still re-assign
    ],
)
def test_seeded_bug_no_range_reassign_transitions(event, after, actions):
    s = _inflight_a(reassign=False)
    got = RANGE_EVENTS[event](s)
    assert (got if event in _POLLED else []) == actions
    assert _range_state(s) == after
