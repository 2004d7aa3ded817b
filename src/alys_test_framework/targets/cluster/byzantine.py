"""A Byzantine middlebox: turns an honest peer into one that serves forged blocks.

Why in the proxy: a node that forges must still speak the protocol perfectly, otherwise the
victim rejects it for a framing error and its signature checks are never exercised. The
rewriter decodes the honest peer's frames, re-signs every served block with a key that is not
an authority (a *valid* BLS signature over the right message, by the wrong signer) and
re-frames it. Only a node that verifies producer signatures can tell.

This couples the framework to the reference node's wire format (alys_node.p2p), which the
dependency direction allows; another node binary would need its own rewriter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alys_node.chain.block import Block
from alys_node.crypto import bls
from alys_node.p2p import messages as m
from alys_node.p2p.frames import FrameDecoder, encode_frame

MAX_FRAME = 64 << 20
MAX_BLOCK = 16 << 20


@dataclass
class BlockForger:
    """Stateful stream rewriter (one per connection direction): bytes in, bytes out."""

    seed: int = 0
    forged: int = 0
    forged_heights: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._decoder = FrameDecoder(MAX_FRAME)
        self._sk = bls.key_gen(f"byzantine-{self.seed}".encode().ljust(32, b"\0"))
        self._broken = False

    def forge_block(self, raw: bytes) -> bytes:
        block = Block.decode(raw)
        bad = Block(block.header, block.txs, bls.sign(self._sk, block.hash))
        self.forged += 1
        self.forged_heights.append(block.height)
        return bad.encode()

    def feed(self, data: bytes) -> bytes:
        if self._broken:
            return data
        try:
            payloads = self._decoder.feed(data)
        except Exception:  # not our protocol after all: pass bytes through unchanged
            self._broken = True
            return data
        out = bytearray()
        for p in payloads:
            try:
                msg = m.decode_payload(p, MAX_BLOCK)
            except Exception:
                out += encode_frame(p)
                continue
            if isinstance(msg, m.Blocks):
                msg = m.Blocks(msg.req_id, tuple(self.forge_block(b) for b in msg.blocks))
                p = m.encode_payload(msg, MAX_BLOCK)
            elif isinstance(msg, m.NewBlock):
                p = m.encode_payload(m.NewBlock(self.forge_block(msg.block)), MAX_BLOCK)
            out += encode_frame(p)
        return bytes(out)
