"""Rule ids of docs/CHAIN_RULES.md and the one violation value every judge returns.

Why one catalogue: an oracle, a checker and a Byzantine case must name a broken rule the same
way, so a failure message points at one numbered paragraph of the doc. The titles here are
short; the doc holds the full wording.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES: dict[str, str] = {
    "E1": "block decodes canonically within limits",
    "E2": "reported hash is sha256 of the header",
    "B1": "BLS signature by the producer over the block hash",
    "B2": "producer index is an authority",
    "B3": "producer owns the slot of the timestamp",
    "B4": "timestamp not before genesis",
    "B5": "tx_root commits to the body",
    "B6": "body within max_block_bytes",
    "C1": "block 0 is the spec's genesis",
    "C2": "height follows the parent, no gaps",
    "C3": "parent_hash is the parent's hash",
    "C4": "slot strictly after the parent's slot",
    "K1": "checkpoint at every interval multiple, nowhere else",
    "K2": "checkpoint hash is the chain's block",
    "K3": "checkpoint digest is the cumulative digest",
    "F1": "switch only to a strictly longer branch (ties keep the head)",
    "F2": "reorg at most MAX_REORG blocks deep",
    "F3": "head height never decreases",
    "F4": "head is the fork-choice pick of the branches held",
    "F5": "fork switch is atomic",
    "D1": "acknowledged block stays in the chain",
    "D2": "reported head survives restarts",
    "D3": "tampered store is refused at open",
    "W1": "frame length within 1..8 MiB",
    "W2": "message well-formed",
    "W3": "message counts and sizes within limits",
    "W4": "handshake: version, chain id, genesis",
    "P1": "penalties and ban threshold",
    "P2": "invalid block bans its sender at once",
    "P3": "banned peer stays banned until expiry",
    "P4": "at most max_peers peers",
    "P5": "forks, empty and stalled ranges are mild penalties",
    "S1": "ranges committed in order, verified in batches",
    "S2": "failed range re-requested from another peer",
    "S3": "fork probe finds the common ancestor",
    "S4": "sync reaches the best honest head",
    "S5": "live nodes converge on one head after a heal",
    "G1": "gossip fan-out of at most 8, never back to the sender",
    "G2": "each block forwarded once",
    "G3": "gap blocks trigger sync, old blocks ignored",
    "G4": "every node receives every block",
}

MAX_REORG = 64
GOSSIP_FANOUT = 8
BAN_THRESHOLD = -100


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken rule at a place: ``[B3] node-2 height 812 block 0x5c1e…: detail``."""

    rule: str
    detail: str
    height: int | None = None
    block: bytes | None = None
    node: str | None = None

    def at(self, node: str) -> Violation:
        return Violation(self.rule, self.detail, self.height, self.block, node)

    def __str__(self) -> str:
        where = [self.node] if self.node else []
        if self.height is not None:
            where.append(f"height {self.height}")
        if self.block:
            where.append(f"block 0x{self.block.hex()[:16]}…")
        loc = " ".join(where)
        return f"[{self.rule}] {loc + ': ' if loc else ''}{self.detail}"

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "title": RULES.get(self.rule, "?"),
            "node": self.node,
            "height": self.height,
            "block": "0x" + self.block.hex() if self.block else None,
            "detail": self.detail,
            "message": str(self),
        }
