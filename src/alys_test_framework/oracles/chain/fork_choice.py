"""Fork choice of docs/CHAIN_RULES.md (F1–F3) as pure functions over branch summaries.

Rules:
- F1 a node leaves its branch only for a strictly longer one; ties keep the branch it holds.
- F2 the common ancestor is at most MAX_REORG (64) blocks below the old head.
- F3 without a switch the head height never decreases.
A branch is summarised by its tip and its common ancestor with the branch currently held, which
is all the rule looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .rules import MAX_REORG, Violation


@dataclass(frozen=True, slots=True)
class Branch:
    tip_height: int
    tip_hash: bytes
    ancestor: int  # height of the last block shared with the currently held branch


def pick_head(head_height: int, head_hash: bytes, offered: Sequence[Branch]) -> Branch:
    """The branch fork choice keeps: the longest admissible one, the held branch on ties, and
    among equally long offered branches the first offered (first seen)."""
    best = Branch(head_height, head_hash, head_height)
    for b in offered:
        if head_height - b.ancestor > MAX_REORG:
            continue
        if b.tip_height > best.tip_height:
            best = b
    return best


def switch_violations(
    old_height: int, old_hash: bytes, new_height: int, new_hash: bytes, ancestor: int
) -> list[Violation]:
    """F1–F3 for one observed head change; ``ancestor`` is the highest shared height."""
    if new_hash == old_hash and new_height == old_height:
        return []
    if ancestor >= old_height:  # the new head extends the old one
        return []
    out: list[Violation] = []
    if new_height < old_height:
        out.append(
            Violation(
                "F3", f"head went down from {old_height} to {new_height}", new_height, new_hash
            )
        )
    elif new_height == old_height:
        out.append(
            Violation("F1", f"switched to an equally long branch at {new_height} (ties keep "
                      "the held head)", new_height, new_hash)
        )  # fmt: skip
    depth = old_height - ancestor
    if depth > MAX_REORG:
        out.append(
            Violation("F2", f"reorg {depth} blocks deep (ancestor {ancestor}, old head "
                      f"{old_height}) > {MAX_REORG}", new_height, new_hash)
        )  # fmt: skip
    return out


def fork_choice_violations(
    head_height: int, head_hash: bytes, offered: Sequence[Branch]
) -> list[Violation]:
    """F4: the held head against the branches the node has held or been shown."""
    want = pick_head(head_height, head_hash, offered)
    if want.tip_hash == head_hash:
        return []
    return [
        Violation("F4", f"head {head_height} is not the fork-choice pick: branch to "
                  f"{want.tip_height} (0x{want.tip_hash.hex()[:16]}…, ancestor {want.ancestor}) "
                  "is longer and within the reorg bound", head_height, head_hash)
    ]  # fmt: skip
