"""Frame codec and per-peer state machine: every transition, plus Hypothesis fuzzing of the
decoder with random and mutated frames (it may reject, it must never raise)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alys_node.chain.codec import DecodeError
from alys_node.p2p import messages as m
from alys_node.p2p.frames import FrameDecoder, FrameTooLarge, encode_frame
from alys_node.p2p.protocol import (
    HandshakeComplete,
    MessageReceived,
    PeerClosed,
    PeerProtocol,
    State,
    Violation,
)

G = b"\x11" * 32


def hello(node_id=b"A" * 16, chain="c", genesis=G, version=m.PROTOCOL_VERSION) -> m.Hello:
    return m.Hello(version, chain, genesis, 5, b"\x22" * 32, 3000, node_id)


def pair() -> tuple[PeerProtocol, PeerProtocol]:
    a, b = PeerProtocol(hello(b"A" * 16)), PeerProtocol(hello(b"B" * 16))
    ea = a.receive_data(b.data_to_send())
    eb = b.receive_data(a.data_to_send())
    assert isinstance(ea[0], HandshakeComplete) and isinstance(eb[0], HandshakeComplete)
    return a, b


SAMPLES = [
    hello(),
    m.Status(7, b"\1" * 32),
    m.GetHeaders(1, 5, 10),
    m.GetBlocks(2, 5, 512),
    m.Blocks(3, (b"abc", b"")),
    m.NewBlock(b"blk"),
    m.GetPeers(),
    m.Peers(("127.0.0.1:1", "h:2")),
    m.Ping(9),
    m.Pong(9),
    m.Disconnect("bye"),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda x: type(x).__name__)
def test_every_message_roundtrips(msg):
    assert m.decode_payload(m.encode_payload(msg, 1 << 20), 1 << 20) == msg


def test_frames_survive_arbitrary_splitting():
    data = b"".join(encode_frame(bytes([i]) * (i + 1)) for i in range(20))
    for step in (1, 3, 7, 64):
        d = FrameDecoder(1024)
        out = []
        for i in range(0, len(data), step):
            out += d.feed(data[i : i + step])
        assert out == [bytes([i]) * (i + 1) for i in range(20)] and d.buffered == 0


def test_oversized_and_empty_frames_break_the_decoder():
    d = FrameDecoder(100)
    with pytest.raises(FrameTooLarge):
        d.feed(struct.pack(">I", 101))  # rejected from the length alone, nothing buffered
    with pytest.raises(DecodeError):
        d.feed(b"more")
    with pytest.raises(FrameTooLarge):
        FrameDecoder(100).feed(struct.pack(">I", 0))


def test_handshake_then_request_response():
    a, b = pair()
    assert a.state is State.READY and a.remote.node_id == b"B" * 16
    rid = a.request(m.GetBlocks, 1, 4)
    ev = b.receive_data(a.data_to_send())
    assert ev == [MessageReceived(m.GetBlocks(rid, 1, 4))]
    b.send(m.Blocks(rid, (b"x",)))
    assert a.receive_data(b.data_to_send()) == [MessageReceived(m.Blocks(rid, (b"x",)))]
    # a second reply to the same id is ignored (request already satisfied)
    b.send(m.Blocks(rid, (b"y",)))
    assert a.receive_data(b.data_to_send()) == []


def test_cancelled_request_reply_is_dropped_and_type_mismatch_penalised():
    a, b = pair()
    rid = a.request(m.GetBlocks, 1, 4)
    a.cancel(rid)
    b.send(m.Blocks(rid, ()))
    assert a.receive_data(b.data_to_send()) == []
    rid = a.request(m.GetBlocks, 1, 4)
    b.send(m.Headers(rid, ()))
    (v,) = a.receive_data(b.data_to_send())
    assert isinstance(v, Violation) and not v.fatal and "mismatch" in v.reason


def test_ping_is_answered_and_pong_matched():
    a, b = pair()
    a.ping(42)
    assert b.receive_data(a.data_to_send()) == []
    assert a.receive_data(b.data_to_send()) == [MessageReceived(m.Pong(42))]
    b.send(m.Pong(43))
    (v,) = a.receive_data(b.data_to_send())
    assert isinstance(v, Violation) and "unsolicited" in v.reason


@pytest.mark.parametrize(
    "remote, reason, penalised",
    [
        (hello(b"B" * 16, chain="other"), "wrong chain id", True),
        (hello(b"B" * 16, genesis=b"\0" * 32), "wrong genesis", True),
        (hello(b"B" * 16, version=99), "protocol version", True),
        (hello(b"A" * 16), "connected to self", False),
    ],
)
def test_bad_handshakes_close_with_reason(remote, reason, penalised):
    a = PeerProtocol(hello(b"A" * 16, chain="c"))
    a.data_to_send()
    (v,) = a.receive_data(encode_frame(m.encode_payload(remote, 1 << 20)))
    assert isinstance(v, Violation) and v.fatal and reason in v.reason
    assert (v.penalty < 0 and v.ban) == penalised
    assert a.state is State.CLOSED
    assert m.decode_payload(a.data_to_send()[4:], 1 << 20) == m.Disconnect(v.reason)
    assert a.receive_data(b"anything") == []  # closed machines ignore input


def test_message_before_hello_and_duplicate_hello():
    a = PeerProtocol(hello())
    (v,) = a.receive_data(encode_frame(m.encode_payload(m.Ping(1), 1 << 20)))
    assert v.fatal and "expected Hello" in v.reason
    a, b = pair()
    (v,) = a.receive_data(encode_frame(m.encode_payload(hello(b"B" * 16), 1 << 20)))
    assert not v.fatal and "duplicate" in v.reason


def test_remote_disconnect_and_send_rules():
    a, b = pair()
    b.close("bye")
    (ev,) = a.receive_data(b.data_to_send())
    assert isinstance(ev, PeerClosed) and "bye" in ev.reason and a.state is State.CLOSED
    with pytest.raises(RuntimeError):
        a.send(m.Ping(1))


def test_malformed_payload_is_fatal():
    a, _ = pair()
    (v,) = a.receive_data(encode_frame(b"\xee\x00"))
    assert v.fatal and v.penalty <= -100 and "unknown message type" in v.reason
    a, _ = pair()
    (v,) = a.receive_data(encode_frame(m.encode_payload(m.GetBlocks(1, 1, 1), 1 << 20)[:-1]))
    assert v.fatal and "truncated" in v.reason


# -- fuzzing --------------------------------------------------------------------------------
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ready() -> PeerProtocol:
    a, _ = pair()
    return a


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_random_payloads_never_crash_the_decoder(data):
    try:
        m.decode_payload(data, 4096)
    except DecodeError:
        pass


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=6))
def test_fuzz_random_stream_never_crashes_the_peer(chunks):
    for p in (PeerProtocol(hello()), _ready()):
        for c in chunks:
            for ev in p.receive_data(c):
                assert isinstance(ev, HandshakeComplete | MessageReceived | Violation | PeerClosed)


@FUZZ
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 8),
)
def test_fuzz_mutated_valid_frames(msg, flips, cut):
    frame = bytearray(encode_frame(m.encode_payload(msg, 1 << 20)))
    for pos, val in flips:
        frame[pos % len(frame)] = val
    data = bytes(frame[: len(frame) - cut])
    try:
        m.decode_payload(data[4:], 4096)
    except DecodeError:
        pass
    p = _ready()
    events = p.receive_data(data)
    assert all(not isinstance(e, HandshakeComplete) for e in events)
