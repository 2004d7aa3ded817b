"""Fork choice (chain/fork_choice.py), one test per numbered rule, on real signed chains."""

from __future__ import annotations

import dataclasses

import pytest

from alys_node.chain import fork_choice as fc
from alys_node.chain.block import Block
from alys_node.chain.spec import AuthorityKey, ChainSpec

from .chainkit import build_chain


@pytest.fixture(scope="module")
def key(spec_dir) -> AuthorityKey:
    return AuthorityKey.load(spec_dir / "authority-0.key")


@pytest.fixture(scope="module")
def ours(spec: ChainSpec, key: AuthorityKey) -> list[Block]:
    return build_chain(spec, key, 10)  # heights 1..10


def fork_at(spec: ChainSpec, key: AuthorityKey, parent: Block, n: int) -> list[Block]:
    """A competing branch above ``parent``: same slots, other bodies, so other hashes."""
    return build_chain(spec, key, n, parent=parent, txs=(b"fork",))


def head_of(block: Block) -> fc.Head:
    return fc.Head.of(block)


# -- rules 2-4: imports --------------------------------------------------------------------
def test_rule2_nothing_above_the_head_is_known(spec, ours):
    assert fc.plan_import(head_of(ours[4]), ours[:5], spec) == fc.Known()
    assert fc.plan_import(head_of(ours[4]), [], spec) == fc.Known()


def test_rule2_blocks_at_or_below_the_head_are_dropped(spec, ours):
    plan = fc.plan_import(head_of(ours[4]), ours[2:8], spec)
    assert plan == fc.Extend(ours[5:8])


def test_rule3_an_invalid_block_rejects_the_import_naming_its_height(spec, ours):
    b = ours[5]
    bad = dataclasses.replace(b, header=dataclasses.replace(b.header, tx_root=b"\1" * 32))
    plan = fc.plan_import(head_of(ours[4]), [bad], spec)
    assert isinstance(plan, fc.Rejected) and "tx_root" in plan.reason
    assert plan.height == 6 and not plan.fork


def test_rule3_a_gap_inside_the_batch_is_rejected(spec, ours):
    plan = fc.plan_import(head_of(ours[4]), [ours[5], ours[7]], spec)
    assert isinstance(plan, fc.Rejected) and "height" in plan.reason and not plan.fork


def test_rule4_a_block_not_above_the_head_is_not_a_fork(spec, ours):
    plan = fc.plan_import(head_of(ours[4]), ours[6:8], spec)  # 7, 8 after head 5: a gap
    assert isinstance(plan, fc.Rejected) and plan.height == 7 and not plan.fork


def test_rule4_another_parent_at_head_plus_one_is_a_fork(spec, key, ours):
    theirs = fork_at(spec, key, ours[2], 5)  # 4..8 on top of our block 3
    plan = fc.plan_import(head_of(ours[4]), theirs[2:], spec)  # their 6 after our 5
    assert isinstance(plan, fc.Rejected) and plan.fork and plan.height == 6
    assert "parent hash" in plan.reason


def test_rule4_extension_of_the_head_is_accepted(spec, ours):
    assert fc.plan_import(head_of(ours[4]), ours[5:], spec) == fc.Extend(ours[5:])


# -- rules 5-7: switching branches ---------------------------------------------------------
def test_rule5_only_a_strictly_longer_branch_is_admitted(spec, key, ours):
    theirs = fork_at(spec, key, ours[2], 7)  # 4..10: as long as ours
    tie = fc.admit_branch(10, 3, theirs)
    assert tie is not None and tie.reason == "branch is not longer than ours"
    shorter = fc.admit_branch(10, 3, theirs[:-1])
    assert shorter is not None and "not longer" in shorter.reason
    assert fc.admit_branch(9, 3, theirs) is None
    empty = fc.admit_branch(10, 3, [])
    assert empty is not None and "not longer" in empty.reason


def test_rule6_reorg_depth_is_bounded_by_max_reorg(spec, key, ours):
    branch = fork_at(spec, key, ours[0], 3)  # any branch with a tip above the head
    tip = branch[-1].height
    assert fc.admit_branch(tip - 1, tip - 1 - fc.MAX_REORG, branch) is None  # exactly the bound
    deep = fc.admit_branch(tip - 1, tip - 2 - fc.MAX_REORG, branch)
    assert deep is not None and deep.reason == f"fork deeper than {fc.MAX_REORG} blocks"


def test_rule7_branch_must_link_to_its_ancestor_and_inside(spec, key, ours):
    theirs = fork_at(spec, key, ours[2], 8)  # 4..11
    assert fc.check_branch(ours[2], theirs, spec) is None
    wrong_anc = fc.check_branch(ours[1], theirs, spec)
    assert wrong_anc is not None and wrong_anc.height == 4
    holed = fc.check_branch(ours[2], theirs[:2] + theirs[3:], spec)
    assert holed is not None and "height" in holed.reason


# -- rules 8-9: locating the fork point ----------------------------------------------------
def test_rule8_fork_point_is_the_highest_common_block(spec, key, ours):
    theirs = ours[:3] + fork_at(spec, key, ours[2], 7)  # share 1..3, differ from 4
    mine = {b.height: b.hash for b in ours} | {0: spec.genesis().hash}
    assert fc.find_ancestor(mine, theirs) == 3
    assert fc.find_ancestor(mine, ours) == 9  # identical chains: the top block's parent
    assert fc.find_ancestor(mine, ours[:5]) == 4  # the highest: their 5 builds on our 4


def test_rule8_no_shared_block_means_no_fork_point(spec, key, ours):
    stranger = fork_at(spec, key, spec.genesis(), 4)
    mine = {b.height: b.hash for b in ours}  # genesis not among the probed heights
    assert fc.find_ancestor(mine, stranger) is None
    assert fc.find_ancestor({}, ours) is None


def test_rule9_probe_window_covers_max_reorg_blocks_below_the_range_never_genesis():
    assert fc.probe_window(2) == (1, 1)
    assert fc.probe_window(fc.MAX_REORG + 1) == (1, fc.MAX_REORG)
    assert fc.probe_window(1000) == (1000 - fc.MAX_REORG, fc.MAX_REORG)
    assert fc.probe_window(1) == (1, 0)  # a range at height 1 can only fork at genesis: nothing
