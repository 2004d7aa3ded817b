"""Bounded, seeded fuzzing of what a remote party can send the node (issue #14): P2P byte
streams into the protocol machine and JSON-RPC bodies into the RPC server, with the checkers the
longer run (benchmarks/fuzz_node.py) uses. A few thousand inputs, derandomised: the same inputs
every run, so a failure here is reproducible from the test name alone."""

from __future__ import annotations

import asyncio
import json
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alys_node.actors.rpc import peer_address
from alys_node.p2p import messages as m
from alys_node.p2p.frames import encode_frame
from alys_node.p2p.protocol import (
    HANDSHAKE_FRAME,
    HandshakeComplete,
    MessageReceived,
    PeerClosed,
    PeerProtocol,
    State,
    Violation,
)
from alys_node.rpc import RpcServer, height_param, param, uint_param

G = b"\x11" * 32
RPC_CODES = {-32700, -32600, -32601, -32602, -32603, -32000}


def hello(node_id: bytes, head: int = 5) -> m.Hello:
    return m.Hello(m.PROTOCOL_VERSION, "c", G, head, b"\x22" * 32, 3000, node_id)


# -- checkers (also used by benchmarks/fuzz_node.py) -----------------------------------------
def check_p2p_events(p: PeerProtocol, events: list) -> None:
    """What the node may get from any byte stream: events only, every height in range, a fatal
    violation closes the machine, the buffer never holds more than one frame's worth."""
    for ev in events:
        assert isinstance(ev, HandshakeComplete | MessageReceived | Violation | PeerClosed), ev
        msg = ev.msg if isinstance(ev, MessageReceived) else getattr(ev, "hello", None)
        for field in ("start", "head_height"):
            v = getattr(msg, field, None)
            assert v is None or 0 <= v <= m.MAX_HEIGHT, (field, v)
        if isinstance(ev, Violation) and ev.fatal:
            assert p.state is State.CLOSED and ev.penalty <= 0
    limit = p.max_frame if p.state is State.READY else HANDSHAKE_FRAME
    assert p.state is State.CLOSED or p._decoder.buffered <= limit + 4 + (64 << 10)


def check_rpc_answer(raw: bytes, resp: object) -> None:
    """Every body gets JSON-RPC answers a client can parse: one result or one known error."""
    if resp is None:
        return  # notifications only: HTTP 204
    json.dumps(resp)
    for r in resp if isinstance(resp, list) else [resp]:
        assert isinstance(r, dict), (raw[:80], r)
        if "jsonrpc" in r:
            assert r["jsonrpc"] == "2.0" and ("result" in r) != ("error" in r), r
        else:  # JSON-RPC 1.0 answer of an Alys-style method
            assert r.keys() == {"result", "error", "id"}, r
        err = r.get("error")
        if err is not None:
            assert err["code"] in RPC_CODES and isinstance(err["message"], str), err


def fuzz_server() -> RpcServer:
    """An RpcServer whose methods use the node's own parameter validators."""
    srv = RpcServer()

    async def echo(params):
        return params

    async def height(params):
        return height_param(params, 0, "height")

    async def uint(params):
        return uint_param(params, 0, "n", 100_000, default=1, minimum=1)

    async def peer(params):
        return peer_address(param(params, 0, "addr", str))

    async def boom(params):
        raise RuntimeError("handler bug")

    for name, fn in [("echo", echo), ("height", height), ("uint", uint), ("peer", peer),
                     ("boom", boom), ("getblockbyheight", height), ("getheadblock", echo)]:  # fmt: skip
        srv.register(name, fn)
    return srv


FUZZ = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

U64 = st.one_of(
    st.integers(0, 10), st.integers(0, (1 << 64) - 1), st.sampled_from([m.MAX_HEIGHT, 1 << 63])
)
FRAMES = st.one_of(
    st.binary(max_size=300).map(encode_frame),
    st.builds(
        lambda t, req, start, n: encode_frame(bytes([t]) + struct.pack(">IQI", req, start, n)),
        st.sampled_from([3, 5]),
        st.integers(0, (1 << 32) - 1),
        U64,
        st.integers(0, 1 << 20),
    ),
    st.builds(lambda h: encode_frame(m.encode_payload(m.Status(h, b"\1" * 32), 1 << 20)), U64),
    st.builds(lambda h: encode_frame(m.encode_payload(hello(b"Z" * 16, h), 1 << 20)), U64),
    st.integers(0, (1 << 32) - 1).map(lambda n: struct.pack(">I", n)),
    st.binary(max_size=64),
)


# -- the fuzz tests -------------------------------------------------------------------------
def _ready() -> PeerProtocol:
    a, b = PeerProtocol(hello(b"A" * 16)), PeerProtocol(hello(b"B" * 16))
    a.receive_data(b.data_to_send())
    b.receive_data(a.data_to_send())
    return a


@FUZZ
@given(st.lists(FRAMES, max_size=8), st.integers(1, 64), st.booleans())
def test_fuzz_p2p_streams_before_and_after_the_handshake(frames, cut, ready):
    """Any byte stream: only events come out, heights in range, buffers bounded."""
    p = _ready() if ready else PeerProtocol(hello(b"A" * 16))
    stream = b"".join(frames)
    for i in range(0, len(stream), cut * 37):
        check_p2p_events(p, p.receive_data(stream[i : i + cut * 37]))
    if not ready:
        assert p._decoder.buffered <= HANDSHAKE_FRAME + 4 + len(stream)


@settings(FUZZ, max_examples=200)
@given(st.lists(FRAMES, max_size=6))
def test_fuzz_hello_followed_by_anything_in_one_read(frames):
    """D4's shape: a valid Hello and more in the same read."""
    p = PeerProtocol(hello(b"A" * 16))
    data = encode_frame(m.encode_payload(hello(b"B" * 16), 1 << 20)) + b"".join(frames)
    check_p2p_events(p, p.receive_data(data))


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 70), 1 << 70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=6,
)
METHODS = st.sampled_from(
    ["echo", "height", "uint", "peer", "boom", "nope", "getblockbyheight", "getheadblock", ""]
)
CALL = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0"]), "method": METHODS},
    optional={"id": JSON, "params": JSON},
)
BODIES = st.one_of(
    CALL.map(lambda c: json.dumps(c).encode()),
    st.lists(CALL, max_size=5).map(lambda c: json.dumps(c).encode()),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n),
    st.binary(max_size=80),
)


@settings(FUZZ, max_examples=300)
@given(st.lists(BODIES, min_size=1, max_size=4))
def test_fuzz_rpc_bodies_always_get_a_json_rpc_answer(bodies):
    for raw in bodies:
        check_rpc_answer(raw, _LOOP.run_until_complete(_SERVER.handle(raw)))


_LOOP = asyncio.new_event_loop()  # one loop for every example: asyncio.run per body is slow
_SERVER = fuzz_server()
