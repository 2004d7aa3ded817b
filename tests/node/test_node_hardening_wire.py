"""Hardening of everything a remote party feeds the node, tested without processes: integer
ranges at decode (D1), the pre-handshake frame limit (D3), bans by IP and node id with expiry
and a bounded table (D5), JSON-RPC bodies that used to give HTTP 500 (D6), Unicode digits in
peer addresses (D9). Each test names the defect of issue #14 it guards against."""

from __future__ import annotations

import asyncio
import json
import struct

import aiohttp
import pytest

from alys_node.chain.codec import DecodeError
from alys_node.chain.spec import AuthorityKey
from alys_node.p2p import messages as m
from alys_node.p2p.admission import Admission
from alys_node.p2p.frames import encode_frame
from alys_node.p2p.protocol import PeerProtocol, Violation
from alys_node.p2p.scoring import Reputation
from alys_node.rpc import RpcServer, height_param, uint_param
from alys_node.store.blockstore import BlockStore

from .chainkit import build_chain

G = b"\x11" * 32


def hello(node_id: bytes = b"A" * 16, head: int = 5) -> m.Hello:
    return m.Hello(m.PROTOCOL_VERSION, "c", G, head, b"\x22" * 32, 3000, node_id)


def raw_range(t: int, start: int, count: int = 1) -> bytes:
    return bytes([t]) + struct.pack(">IQI", 1, start, count)


# -- D1: heights beyond what a height can be are refused where they enter ----------------------
@pytest.mark.parametrize("t", [3, 5], ids=["GetHeaders", "GetBlocks"])
@pytest.mark.parametrize("start", [1 << 63, (1 << 64) - 1, m.MAX_HEIGHT + 1])
def test_d1_range_start_beyond_max_height_is_a_decode_error(t, start):
    with pytest.raises(DecodeError, match="height"):
        m.decode_payload(raw_range(t, start), 4096)
    assert m.decode_payload(raw_range(t, m.MAX_HEIGHT), 4096).start == m.MAX_HEIGHT


def test_d1_max_height_leaves_room_for_a_whole_range_in_sqlite():
    assert m.MAX_HEIGHT + m.MAX_RANGE <= (1 << 63) - 1


@pytest.mark.parametrize("kind", ["hello", "status"])
def test_d1_advertised_heads_beyond_max_height_are_refused(kind):
    big = (1 << 64) - 1
    if kind == "hello":
        data = m.encode_payload(hello(head=big), 4096)
    else:
        data = m.encode_payload(m.Status(big, b"\1" * 32), 4096)
    with pytest.raises(DecodeError, match="height"):
        m.decode_payload(data, 4096)


def test_d1_the_peer_is_penalised_for_an_out_of_range_request():
    a, b = PeerProtocol(hello(b"A" * 16)), PeerProtocol(hello(b"B" * 16))
    a.receive_data(b.data_to_send())
    b.receive_data(a.data_to_send())
    (v,) = a.receive_data(encode_frame(raw_range(5, 1 << 63)))
    assert isinstance(v, Violation) and v.fatal and v.penalty <= -100 and "height" in v.reason


def test_d1_store_reads_beyond_int64_answer_nothing(tmp_path, spec, spec_dir):
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    s = BlockStore(tmp_path / "d", spec)
    try:
        s.append(build_chain(spec, key, 3))
        for h in (1 << 63, (1 << 64) - 1, -1):
            assert s.get_by_height(h) is None
            assert s.range_encoded(h, 10, 1 << 20) == []
            assert s.headers(h, 10) == []
        assert len(s.range_encoded((1 << 63) - 2, 512, 1 << 20)) == 0
        assert len(s.headers(1, 512)) == 3
    finally:
        s.close()


@pytest.mark.parametrize(
    "value, ok",
    [(0, True), (m.MAX_HEIGHT, True), (m.MAX_HEIGHT + 1, False), (1 << 63, False), (-1, False),
     (True, False), (1.0, False), ("5", False)],
)  # fmt: skip
def test_d1_rpc_height_params_are_range_checked(value, ok):
    from alys_node.rpc import RpcError

    if ok:
        assert height_param([value], 0, "height") == value
    else:
        with pytest.raises(RpcError) as e:
            height_param([value], 0, "height")
        assert e.value.code == -32602
    with pytest.raises(RpcError):
        uint_param({"n": 11}, 0, "n", 10)


# -- D3: before the handshake a peer may not make us buffer more than a small frame ------------
def test_d3_pre_handshake_frames_are_limited_to_64_kib():
    p = PeerProtocol(hello(), max_frame=8 << 20)
    (v,) = p.receive_data(struct.pack(">I", (64 << 10) + 1) + b"x" * 100)
    assert v.fatal and "oversized" in v.reason
    p = PeerProtocol(hello(), max_frame=8 << 20)
    assert p.receive_data(struct.pack(">I", 64 << 10) + b"x" * 100) == []


def test_d3_after_the_handshake_the_full_max_frame_applies():
    a, b = PeerProtocol(hello(b"A" * 16)), PeerProtocol(hello(b"B" * 16))
    a.receive_data(b.data_to_send())
    b.receive_data(a.data_to_send())
    assert a.receive_data(struct.pack(">I", 1 << 20) + b"x" * 100) == []


# -- D5: bans that a new socket, port or node id do not evade; a bounded table ----------------
def test_d5_pre_handshake_offence_bans_the_ip_for_new_sockets():
    adm = Admission(Reputation(ban_seconds=60))
    assert adm.accept_reason("10.0.0.9", now=0) is None
    ban = adm.penalise("10.0.0.9", None, None, -100, "garbage", now=1)
    assert ban is not None
    assert adm.accept_reason("10.0.0.9", now=2) is not None  # a new socket from the same IP
    assert adm.accept_reason("10.0.0.8", now=2) is None
    assert adm.accept_reason("10.0.0.9", now=62) is None  # expired


def test_d5_node_id_ban_survives_a_new_port_and_a_new_socket():
    adm = Admission(Reputation(ban_seconds=60))
    nid = b"\x07" * 16
    assert adm.admit_reason("10.0.0.9", nid, now=0) is None
    adm.penalise("10.0.0.9", nid, "10.0.0.9:3000", -100, "forged block", now=1)
    assert adm.admit_reason("10.0.0.9", nid, now=2) == "banned"
    assert adm.dial_reason("10.0.0.9:3000", now=2) is not None
    assert adm.dial_reason("10.0.0.9:3001", now=2) is None  # one ban is one identity...
    assert adm.admit_reason("10.0.0.9", b"\x08" * 16, now=2) is None


def test_d5_repeated_identity_bans_from_one_ip_ban_the_ip():
    adm = Admission(Reputation(ban_seconds=60))
    for i in range(3):
        nid = bytes([i]) * 16
        assert adm.admit_reason("10.0.0.9", nid, now=i) is None
        adm.penalise("10.0.0.9", nid, f"10.0.0.9:{3000 + i}", -100, "bad", now=i)
    # ...but three of them from one address ban the address for every new identity
    assert adm.admit_reason("10.0.0.9", b"\x09" * 16, now=5) is not None
    assert adm.accept_reason("10.0.0.9", now=5) is not None
    # our own dials are judged by address and node id: a neighbour we dial may come back anew
    assert adm.dial_reason("10.0.0.9:4000", now=5) is None
    assert adm.admit_reason("10.0.0.9", b"\x09" * 16, now=5, inbound=False) is None


def test_d5_a_peer_known_before_an_ip_ban_keeps_its_place():
    """Loopback clusters share one IP: an offence by one node must not cut off the others."""
    adm = Admission(Reputation(ban_seconds=60))
    good = b"\x01" * 16
    assert adm.admit_reason("127.0.0.1", good, now=0) is None
    adm.welcome("127.0.0.1", good)
    adm.penalise("127.0.0.1", None, None, -100, "garbage", now=1)
    assert adm.accept_reason("127.0.0.1", now=2) is None  # must see a Hello to tell who it is
    assert adm.admit_reason("127.0.0.1", good, now=2) is None
    assert adm.admit_reason("127.0.0.1", b"\x02" * 16, now=2) == "banned address"


def test_d5_the_ban_and_score_tables_are_bounded():
    rep = Reputation(ban_seconds=60, max_bans=50, max_scores=200)
    for i in range(6108):
        rep.penalise(f"k{i}", -100, "x", now=i * 0.001)
    assert len(rep.bans) <= 50 and len(rep.scores) <= 200
    assert rep.is_banned("k6107", now=7)


def test_d5_pending_connections_are_capped_per_ip():
    adm = Admission(Reputation(), pending_per_ip=4, pending_total=10)
    for i in range(4):
        assert adm.open_pending("10.0.0.1", i) == []
    assert adm.open_pending("10.0.0.1", 99) == [0]  # the oldest pending one makes room
    for i in range(6):
        adm.open_pending(f"10.0.1.{i}", 100 + i)
    assert len(adm.open_pending("10.0.2.1", 200)) == 1
    assert adm.pending_count() <= 10


# -- D6: no JSON body gives HTTP 500 -----------------------------------------------------------
async def _post(body: bytes, path: str = "/", method: str = "POST") -> tuple[int, dict | list]:
    srv = RpcServer()

    async def echo(params):
        return params

    srv.register("echo", echo)
    port = await srv.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.request(method, f"http://127.0.0.1:{port}{path}", data=body) as r:
                return r.status, json.loads(await r.read())
    finally:
        await srv.stop()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000,
        b"[" * 100_000,
        b'{"jsonrpc":"2.0","id":1,"method":"echo","params":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"jsonrpc":"2.0","id":' + b"[" * 900 + b"]" * 900 + b',"method":"echo"}',
        b"[" + b",".join([b'{"jsonrpc":"2.0","id":1,"method":"echo"}'] * 5000) + b"]",
        b"\xff\xfe",
    ],
    ids=["1000-brackets", "100k-brackets", "deep-params", "deep-id", "huge-batch", "not-utf8"],
)
def test_d6_hostile_bodies_get_a_json_rpc_error_not_500(body):
    status, resp = asyncio.run(_post(body))
    assert status == 200, resp
    assert isinstance(resp, dict) and resp["error"]["code"] in (-32700, -32600), resp


def test_d6_unknown_routes_answer_json_4xx():
    status, resp = asyncio.run(_post(b"", "/nope", "GET"))
    assert status == 404 and "error" in resp


# -- D9: a port is ASCII digits ----------------------------------------------------------------
@pytest.mark.parametrize("addr", ["١٢:٣", "host:١٢٣", "host:+12", "host: 12", "host:0", "h:65536"])
def test_d9_peer_addresses_need_an_ascii_port(addr):
    from alys_node.actors.rpc import peer_address
    from alys_node.rpc import RpcError

    with pytest.raises(RpcError) as e:
        peer_address(addr)
    assert e.value.code == -32602


@pytest.mark.parametrize("v", ["١٢", "+12", " 12", "1_000"])
def test_d9_cli_ports_need_ascii_digits(v):
    import argparse

    from alys_node.__main__ import _hostport, _port

    with pytest.raises(argparse.ArgumentTypeError):
        _port(v)
    with pytest.raises(argparse.ArgumentTypeError):
        _hostport(f"127.0.0.1:{v}")


def test_d3_frames_before_an_oversized_one_in_the_same_read_are_still_handled():
    """The limit is judged frame by frame: a Hello and then a too-large frame in one read give
    the handshake and then the violation, in order (what the network actor needs for D4)."""
    from alys_node.p2p.protocol import HandshakeComplete

    p = PeerProtocol(hello(b"A" * 16))
    other = encode_frame(m.encode_payload(hello(b"B" * 16), 4096))
    events = p.receive_data(other + struct.pack(">I", 64 << 20))
    assert [type(e) for e in events] == [HandshakeComplete, Violation]
    assert "oversized" in events[1].reason


def test_d6_deep_json_is_refused_before_parsing_whatever_the_recursion_limit():
    """py_ecc raises the recursion limit to 100,000 on import; json.loads of deep input then
    overflows the C stack (a segfault) instead of raising RecursionError."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100_000))
    try:
        for body in (b"[" * 200_000, b'{"a":' * 100_000, b"[" * 65 + b"]" * 65):
            resp = asyncio.run(RpcServer().handle(body))
            assert resp["error"]["code"] == -32700 and "deeper than 64" in resp["error"]["message"]
        ok = asyncio.run(RpcServer().handle(b"[" * 63 + b"]" * 63))
        assert "deeper" not in json.dumps(ok)
    finally:
        sys.setrecursionlimit(old)
