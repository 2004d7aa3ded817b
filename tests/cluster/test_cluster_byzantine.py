"""The Byzantine block forger keeps the protocol valid and only breaks producer signatures."""

from __future__ import annotations

from alys_node.chain.block import Block, make_header
from alys_node.crypto import bls
from alys_node.p2p import messages as m
from alys_node.p2p.frames import FrameDecoder, encode_frame
from alys_test_framework.targets.cluster.byzantine import MAX_BLOCK, BlockForger


def test_forger_resigns_blocks_with_a_wrong_key_and_keeps_framing() -> None:
    sk = bls.key_gen(b"honest-authority".ljust(32, b"\0"))
    blocks = []
    parent = b"\0" * 32
    for h in range(1, 4):
        header = make_header(h, parent, 1000 * h, (), 0)
        blocks.append(Block(header, (), bls.sign(sk, header.hash())))
        parent = header.hash()
    msg = m.Blocks(7, tuple(b.encode() for b in blocks))
    stream = encode_frame(m.encode_payload(m.Ping(1), MAX_BLOCK)) + encode_frame(
        m.encode_payload(msg, MAX_BLOCK)
    )
    forger = BlockForger(seed=1)
    out = forger.feed(stream[:10]) + forger.feed(stream[10:])  # split mid-frame
    payloads = FrameDecoder(1 << 24).feed(out)
    assert isinstance(m.decode_payload(payloads[0], MAX_BLOCK), m.Ping)
    forged = m.decode_payload(payloads[1], MAX_BLOCK)
    assert isinstance(forged, m.Blocks) and forged.req_id == 7
    pk = bls.sk_to_pk(sk)
    for honest, raw in zip(blocks, forged.blocks, strict=True):
        bad = Block.decode(raw)
        assert bad.hash == honest.hash  # same header: only the signer is wrong
        assert bad.signature != honest.signature
        assert not bls.verify(pk, bad.hash, bad.signature)
    assert forger.forged == 3 and forger.forged_heights == [1, 2, 3]
