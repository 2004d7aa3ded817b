"""ChainOracle: judges any block, chain and checkpoint list by the rules of docs/CHAIN_RULES.md.

Rules judged here: E1, E2 (encoding), B1–B6 (a block by itself), C1–C4 (a chain), K1–K3
(checkpoints). Fork choice (F) is in ``fork_choice.py``; history-level rules (D, P, G, S) are
the checkers'. Every judgment returns *all* violations found, each naming its rule, height and
block, never stopping at the first: a report shows the whole damage.

The oracle is written from the doc and imports nothing of the node under test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .encoding import EMPTY_ROOT, EncodingError, OBlock, sha256, tx_root
from .rules import Violation
from .signatures import SignatureOracle
from .spec import OracleSpec


@dataclass(frozen=True, slots=True)
class CheckpointView:
    height: int
    hash: bytes
    digest: bytes


class ChainOracle:
    def __init__(self, spec: OracleSpec, *, cache_signatures: bool = True) -> None:
        self.spec = spec
        self.genesis = spec.genesis()
        self.sigs = SignatureOracle(spec.authorities, cache=cache_signatures)
        self._n = len(spec.authorities)

    # -- one block ---------------------------------------------------------------------------
    def decode(self, data: bytes) -> tuple[OBlock | None, list[Violation]]:
        """E1: wire bytes to a block, or the violation naming why they are not one."""
        try:
            return OBlock.decode(data), []
        except EncodingError as e:
            return None, [Violation("E1", str(e))]

    def block_violations(self, b: OBlock) -> list[Violation]:
        """E2 and B2–B6 (B1 needs batching: see ``signature_violations``)."""
        out: list[Violation] = []
        h = b.height
        spec = self.spec
        if b.reported_hash is not None and b.reported_hash != b.hash:
            out.append(
                Violation("E2", f"reported hash 0x{b.reported_hash.hex()[:16]}… is not "
                          f"sha256(header) 0x{b.hash.hex()[:16]}…", h, b.reported_hash)
            )  # fmt: skip
        if h == 0:
            return out  # genesis is judged by C1
        if b.producer >= self._n:
            out.append(
                Violation("B2", f"producer {b.producer} >= {self._n} authorities", h, b.hash)
            )
        if b.timestamp < spec.genesis_timestamp:
            out.append(Violation("B4", f"timestamp {b.timestamp} before genesis", h, b.hash))
        else:
            slot = (b.timestamp - spec.genesis_timestamp) // spec.slot_ms
            owner = slot % self._n
            if b.producer != owner:
                out.append(
                    Violation("B3", f"producer {b.producer} does not own slot {slot} "
                              f"(owner {owner})", h, b.hash)
                )  # fmt: skip
        root = EMPTY_ROOT if not b.txs else tx_root(b.txs)
        if b.tx_root != root:
            out.append(Violation("B5", "tx_root does not match the body", h, b.hash))
        if b.txs:
            size = b.body_size()
            if size > spec.max_block_bytes:
                out.append(
                    Violation("B6", f"body {size} B > max_block_bytes {spec.max_block_bytes}",
                              h, b.hash)
                )  # fmt: skip
        return out

    def signature_violations(self, blocks: Sequence[OBlock]) -> list[Violation]:
        """B1 for every non-genesis block with a valid producer index, in batches."""
        cand = [b for b in blocks if b.height != 0 and b.producer < self._n]
        bad = self.sigs.invalid([(b.producer, b.hash, b.signature) for b in cand])
        return [
            Violation("B1", f"signature is not by authority {cand[i].producer} over the hash",
                      cand[i].height, cand[i].hash)
            for i in bad
        ]  # fmt: skip

    def link_violations(self, parent: OBlock, b: OBlock) -> list[Violation]:
        """C2–C4 of ``b`` against ``parent``."""
        out: list[Violation] = []
        h = b.height
        if h != parent.height + 1:
            out.append(
                Violation("C2", f"height {h} does not follow parent {parent.height}", h, b.hash)
            )
        if b.parent_hash != parent.hash:
            out.append(
                Violation("C3", f"parent_hash 0x{b.parent_hash.hex()[:16]}… is not block "
                          f"{parent.height} 0x{parent.hash.hex()[:16]}…", h, b.hash)
            )  # fmt: skip
        g, ms = self.spec.genesis_timestamp, self.spec.slot_ms
        if (b.timestamp - g) // ms <= (parent.timestamp - g) // ms:
            out.append(
                Violation("C4", f"slot {(b.timestamp - g) // ms} not after parent slot "
                          f"{(parent.timestamp - g) // ms}", h, b.hash)
            )  # fmt: skip
        return out

    def genesis_violations(self, b: OBlock) -> list[Violation]:
        g = self.genesis
        if (b.hash, b.signature, b.txs) != (g.hash, g.signature, g.txs):
            return [Violation("C1", "block 0 is not the spec's genesis", 0, b.hash)]
        return []

    # -- a chain -----------------------------------------------------------------------------
    def judge_chain(
        self,
        blocks: Sequence[OBlock],
        *,
        anchor: OBlock | None = None,
        signatures: bool = True,
    ) -> list[Violation]:
        """Every rule of E2/B/C over ``blocks`` in height order. Without ``anchor`` the chain
        must start at genesis; with it, ``blocks[0]`` must extend the anchor."""
        out: list[Violation] = []
        parent = anchor
        for i, b in enumerate(blocks):
            if i == 0 and anchor is None:
                if b.height != 0:
                    out.append(
                        Violation(
                            "C2", f"chain starts at height {b.height}, not 0", b.height, b.hash
                        )
                    )
                else:
                    out += self.genesis_violations(b)
            out += self.block_violations(b)
            if parent is not None:
                out += self.link_violations(parent, b)
            parent = b
        if signatures:
            out += self.signature_violations(blocks)
        out.sort(key=lambda v: (v.height if v.height is not None else -1, v.rule))
        return out

    def judge_block(self, b: OBlock, parent: OBlock | None = None) -> list[Violation]:
        """One block by itself (and against ``parent`` when given), signature included."""
        out = self.genesis_violations(b) if b.height == 0 else []
        out += self.block_violations(b)
        if parent is not None:
            out += self.link_violations(parent, b)
        return out + self.signature_violations([b])

    # -- checkpoints -------------------------------------------------------------------------
    def digests(self, blocks: Sequence[OBlock]) -> list[bytes]:
        """Cumulative digests d_h for a chain from genesis (K3)."""
        out: list[bytes] = []
        d = b""
        for b in blocks:
            d = sha256(b.hash) if b.height == 0 else sha256(d + b.hash + b.signature)
            out.append(d)
        return out

    def checkpoint_violations(
        self, blocks: Sequence[OBlock], checkpoints: Iterable[CheckpointView]
    ) -> list[Violation]:
        """K1–K3 of a node's checkpoint list against its chain ``blocks`` (from genesis)."""
        out: list[Violation] = []
        if not blocks or blocks[0].height != 0:
            return [Violation("K1", "checkpoints need the chain from genesis")]
        head = blocks[-1].height
        ci = self.spec.checkpoint_interval
        digests = self.digests(blocks)
        by_h = {c.height: c for c in checkpoints}
        for h in range(ci, head + 1, ci):
            if h not in by_h:
                out.append(
                    Violation(
                        "K1", f"no checkpoint at height {h} (interval {ci})", h, blocks[h].hash
                    )
                )
        for h, c in sorted(by_h.items()):
            if h <= 0 or h % ci or h > head:
                out.append(
                    Violation(
                        "K1",
                        f"checkpoint at {h} is not a multiple of {ci} ≤ head {head}",
                        h,
                        c.hash,
                    )
                )
                continue
            b = blocks[h]
            if c.hash != b.hash:
                out.append(
                    Violation(
                        "K2",
                        f"checkpoint hash 0x{c.hash.hex()[:16]}… is not the block's",
                        h,
                        b.hash,
                    )
                )
            elif c.digest != digests[h]:
                out.append(
                    Violation("K3", "checkpoint digest is not the cumulative digest", h, b.hash)
                )
        return out
