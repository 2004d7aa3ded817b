"""Fork choice: which blocks may extend our head, and when a competing branch replaces it.

Pure rules (no I/O, no signatures, no clock): the ChainActor asks them before it touches the
store, and the sync machine asks them to locate a fork point. Signatures are checked elsewhere
(batched in the verification pool) because they are the expensive part.

Rules:
1. The head is the tip of the longest valid chain we hold; heights start at genesis (0).
2. An import keeps only blocks above our head; if none remain it is already known (no change).
3. The kept blocks must be valid one by one and linked among themselves (validation rules);
   a violation rejects the import, naming the first kept block's height.
4. The first kept block must link to our head. If it sits at head + 1 but names another parent,
   the rejection is a *fork*: a competing branch, not proof of malice, so sync may probe for it.
5. A branch replaces our head only if its tip is strictly higher (longest chain). On a tie we keep
   ours: the first branch seen wins, so two equal branches do not flap.
6. A branch may fork off at most MAX_REORG blocks below our head; deeper reorganisations are
   refused (finality by depth).
7. The branch must start right above its ancestor, link to it, and be valid and linked inside.
8. The fork point of a branch is the highest of its blocks whose parent is our block one height
   below (the highest common block); a branch sharing no block with ours has none.
9. To find a fork point below a range starting at ``nxt`` we need their MAX_REORG blocks below
   it (never genesis, which both sides share by the handshake): none at all when ``nxt`` is 1.
Rules 5 and 6 are F1 and F2 of docs/CHAIN_RULES.md, which the framework's oracle judges from the
outside with its own code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alys_node.chain.block import Block, Header
from alys_node.chain.spec import ChainSpec
from alys_node.chain.validation import InvalidBlock, check_link, check_range

MAX_REORG = 64


@dataclass(frozen=True)
class Head:
    height: int
    hash: bytes
    header: Header

    @classmethod
    def of(cls, block: Block) -> Head:
        return cls(block.height, block.hash, block.header)


@dataclass(frozen=True)
class Known:
    """Rule 2: nothing above our head; the import changes nothing."""


@dataclass(frozen=True)
class Extend:
    """Rules 3-4 passed: these blocks extend the head once their signatures verify."""

    blocks: list[Block]


@dataclass(frozen=True)
class Rejected:
    reason: str
    height: int | None = None
    fork: bool = False  # rule 4: the branch may be a longer competitor worth probing


ImportPlan = Known | Extend | Rejected


def plan_import(head: Head, blocks: Sequence[Block], spec: ChainSpec) -> ImportPlan:
    """Rules 2-4: how a batch offered as an extension of ``head`` is treated."""
    above = [b for b in blocks if b.height > head.height]
    if not above:
        return Known()
    try:
        check_range(above, spec)
    except InvalidBlock as e:
        return Rejected(str(e), above[0].height)
    try:
        check_link(head.header, head.hash, above[0], spec)
    except InvalidBlock as e:
        first = above[0]
        fork = first.height == head.height + 1 and first.header.parent_hash != head.hash
        return Rejected(str(e), first.height, fork=fork)
    return Extend(above)


def admit_branch(head_height: int, ancestor: int, branch: Sequence[Block]) -> Rejected | None:
    """Rules 5-6, decided before the ancestor is even looked up."""
    if not branch or branch[-1].height <= head_height:
        return Rejected("branch is not longer than ours")
    if head_height - ancestor > MAX_REORG:
        return Rejected(f"fork deeper than {MAX_REORG} blocks")
    return None


def check_branch(ancestor: Block, branch: Sequence[Block], spec: ChainSpec) -> Rejected | None:
    """Rule 7, once the ancestor block is known."""
    try:
        check_range(branch, spec)
        check_link(ancestor.header, ancestor.hash, branch[0], spec)
    except InvalidBlock as e:
        return Rejected(str(e), branch[0].height)
    return None


def find_ancestor(ours: Mapping[int, bytes], branch: Sequence[Block]) -> int | None:
    """Rule 8: ``ours`` maps height -> our block hash over the probed heights."""
    for b in reversed(branch):
        if ours.get(b.height - 1) == b.header.parent_hash:
            return b.height - 1
    return None


def probe_window(nxt: int) -> tuple[int, int]:
    """Rule 9: (start, count) of the blocks to ask for below a range starting at ``nxt``."""
    top = nxt - 1
    start = max(1, top - MAX_REORG + 1)
    return start, top - start + 1
