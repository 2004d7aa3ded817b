"""Fork choice of the oracle (F1–F4): strictly longer wins, ties keep the held head (first
offered among equals), deeper than MAX_REORG never, and a head change is judged by rule id."""

from __future__ import annotations

from alys_test_framework.oracles.chain import MAX_REORG, Branch, fork_choice_violations, pick_head
from alys_test_framework.oracles.chain.fork_choice import switch_violations

H = b"\x01" * 32


def br(tip: int, tag: int, anc: int) -> Branch:
    return Branch(tip, bytes([tag]) * 32, anc)


def test_pick_head_longest_ties_and_bound() -> None:
    assert pick_head(10, H, [br(10, 2, 5)]).tip_hash == H  # tie keeps ours
    assert pick_head(10, H, [br(11, 2, 5)]).tip_hash == b"\x02" * 32
    assert pick_head(10, H, [br(12, 2, 5), br(12, 3, 5)]).tip_hash == b"\x02" * 32  # first seen
    assert pick_head(100, H, [br(200, 2, 100 - MAX_REORG - 1)]).tip_hash == H  # too deep
    assert pick_head(100, H, [br(200, 2, 100 - MAX_REORG)]).tip_hash == b"\x02" * 32


def test_switch_violations_name_the_rule() -> None:
    assert switch_violations(10, H, 11, b"\x02" * 32, 10) == []  # extension
    assert switch_violations(10, H, 12, b"\x02" * 32, 8) == []  # valid reorg
    assert [v.rule for v in switch_violations(10, H, 10, b"\x02" * 32, 8)] == ["F1"]
    assert [v.rule for v in switch_violations(10, H, 9, b"\x02" * 32, 8)] == ["F3"]
    deep = switch_violations(100, H, 120, b"\x02" * 32, 100 - MAX_REORG - 1)
    assert [v.rule for v in deep] == ["F2"] and deep[0].height == 120


def test_fork_choice_violations_f4() -> None:
    assert fork_choice_violations(10, H, [br(9, 2, 5)]) == []
    vs = fork_choice_violations(10, H, [br(12, 2, 5)])
    assert [v.rule for v in vs] == ["F4"] and "12" in vs[0].detail
