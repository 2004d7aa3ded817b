"""Hardening against a hostile remote party, on real node processes over loopback (issue #14):
each test replays one attack of the issue's attack pass and checks the node's answer."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import pytest

from alys_node.chain.spec import ChainSpec
from alys_node.p2p import messages as m
from alys_node.p2p.frames import encode_frame
from alys_node.p2p.protocol import HandshakeComplete, MessageReceived, PeerProtocol

from .conftest import NodeProc, wait_until

NODE = [sys.executable, "-m", "alys_node"]


def client_hello(spec: ChainSpec, node_id: bytes, port: int = 4000) -> m.Hello:
    g = spec.genesis()
    return m.Hello(m.PROTOCOL_VERSION, spec.chain_id, g.hash, 0, g.hash, port, node_id)


def connect(node: NodeProc) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", node.p2p_port), timeout=10)
    s.settimeout(10)
    return s


def handshake(
    node: NodeProc, spec: ChainSpec, node_id: bytes
) -> tuple[socket.socket, list, PeerProtocol]:
    """A real handshake with the node; returns the socket, the events seen and the protocol."""
    s = connect(node)
    p = PeerProtocol(client_hello(spec, node_id))
    s.sendall(p.data_to_send())
    events: list = []
    deadline = time.monotonic() + 10
    while not any(isinstance(e, HandshakeComplete) for e in events):
        if time.monotonic() > deadline:
            raise AssertionError(f"no handshake; events {events}")
        data = s.recv(65536)
        if not data:
            raise ConnectionError(f"closed before the handshake; events {events}")
        events += p.receive_data(data)
    return s, events, p


def closed_by_peer(s: socket.socket, timeout_s: float) -> bool:
    """True if the node closes the socket within timeout_s (reading whatever it sends)."""
    s.settimeout(timeout_s)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True
    return False


def raw_get_blocks(start: int) -> bytes:
    return encode_frame(bytes([5]) + struct.pack(">IQI", 7, start, 1))


# -- D1 ------------------------------------------------------------------------------------
def test_d1_out_of_range_requests_do_not_stop_storage(launch, spec):
    """Four GetBlocks(start >= 2^63) used to exceed the storage actor's restart intensity."""
    a = launch("a", dev=True)
    a.rpc("dev_produceBlocks", 5)
    for i in range(3):
        s, _, _ = handshake(a, spec, bytes([i + 1]) * 16)
        s.sendall(raw_get_blocks(1 << 63))
        assert closed_by_peer(s, 10), "an out-of-range request must close the connection"
        s.close()
    for _ in range(4):
        err = a.call("chain_getBlockByHeight", 1 << 63)["error"]
        assert err["code"] == -32602 and "height" in err["message"]
    assert a.rpc("dev_produceBlocks", 3)["height"] == 8
    assert a.rpc("chain_getBlockByHeight", 8)["height"] == 8
    health = a.rpc("node_health")
    assert health["ok"] and health["actors"]["storage"]["state"] == "running", health
    assert health["actors"]["storage"]["failures"] == 0, health
    bans = a.rpc("admin_bans")
    assert len(bans) >= 1 and all("height" in b["reason"] for b in bans), bans
    with pytest.raises(ConnectionError):  # three banned identities from one IP ban the IP
        handshake(a, spec, b"\x04" * 16)


# -- D2 ------------------------------------------------------------------------------------
def test_d2_the_handshake_deadline_holds_for_the_whole_handshake(launch):
    a = launch("a", "--handshake-timeout", "2")
    s = connect(a)
    t0 = time.monotonic()
    closed = False
    while time.monotonic() - t0 < 8:  # a byte every 0.5 s: each read is quick, the whole is not
        try:
            s.sendall(b"\x00")
        except OSError:
            closed = True
            break
        if closed_by_peer(s, 0.5):
            closed = True
            break
    took = time.monotonic() - t0
    s.close()
    assert closed and took < 4, f"trickling connection lived {took:.1f} s (deadline 2 s)"


def test_d2_idle_sockets_do_not_keep_a_legitimate_peer_out(launch, spec):
    a = launch("a")
    idle = [connect(a) for _ in range(150)]
    try:
        s, events, _ = handshake(a, spec, b"\x42" * 16)  # must not wait for the idle ones to expire
        s.close()
        assert any(isinstance(e, HandshakeComplete) for e in events)
    finally:
        for x in idle:
            x.close()


# -- D3 ------------------------------------------------------------------------------------
def test_d3_a_large_frame_before_the_handshake_is_refused_at_once(launch):
    a = launch("a")
    s = connect(a)
    s.sendall(struct.pack(">I", 8 << 20) + b"x" * 1000)
    assert closed_by_peer(s, 5)
    s.close()
    bans = a.rpc("admin_bans")
    assert bans and "oversized" in bans[0]["reason"], bans


# -- D4 ------------------------------------------------------------------------------------
def test_d4_hello_and_a_bad_frame_in_one_read_are_penalised(launch, spec):
    a = launch("a")
    nid = b"\x44" * 16
    p = PeerProtocol(client_hello(spec, nid, port=4444))
    s = connect(a)
    s.sendall(p.data_to_send() + encode_frame(b"\xee\x00"))  # Hello + unknown type, one write
    assert closed_by_peer(s, 10)
    s.close()
    bans = wait_until(lambda: a.rpc("admin_bans"), 10, "the offender is banned")
    assert bans[0]["addr"] == "127.0.0.1:4444" and "unknown message type" in bans[0]["reason"]
    assert not [e for e in a.log_events() if "handler error" in e.get("msg", "")]
    with pytest.raises(ConnectionError):  # the same node id on a new socket and port is refused
        handshake_and_status(a, spec, nid)


def handshake_and_status(node: NodeProc, spec: ChainSpec, nid: bytes) -> None:
    """Handshake and wait for the node's Status: only an admitted peer gets one."""
    s, events, p = handshake(node, spec, nid)
    try:
        deadline = time.monotonic() + 5
        while not any(isinstance(e, MessageReceived) for e in events):
            if time.monotonic() > deadline:
                raise AssertionError("admitted but no Status")
            data = s.recv(65536)
            if not data:
                raise ConnectionError("refused after the handshake")
            events += p.receive_data(data)
    finally:
        s.close()


# -- D5 ------------------------------------------------------------------------------------
def test_d5_a_new_socket_from_a_banned_ip_is_refused(launch):
    a = launch("a")
    s = connect(a)
    s.sendall(encode_frame(b"\xee"))  # garbage before any Hello: the IP is all we know
    assert closed_by_peer(s, 5)
    s.close()
    wait_until(lambda: a.rpc("admin_bans"), 10, "the IP is banned")
    s = connect(a)
    s.settimeout(5)
    assert s.recv(65536) == b"", "a banned IP must not even get our Hello"
    s.close()
    bans = a.rpc("admin_bans")
    assert [b["addr"] for b in bans] == ["127.0.0.1"], bans


# -- D9 / D11 ------------------------------------------------------------------------------
def test_d9_admin_add_peer_refuses_unicode_digits(launch):
    a = launch("a")
    for addr in ["١٢:٣", "127.0.0.1:١٢٣"]:
        assert a.call("admin_addPeer", addr)["error"]["code"] == -32602


@pytest.mark.parametrize("what", ["chain-spec", "authority-key"])
def test_d11_non_utf8_input_files_are_one_line_exit_2(tmp_path, what):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"chain_id": "\xff\xfe"}')
    args = ["--datadir", str(tmp_path / "d"), "--p2p-port", "0", "--rpc-port", "0"]
    r = subprocess.run(NODE + args + [f"--{what}", str(bad)], capture_output=True, timeout=30)
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("alys-node"), r.stderr


# -- health and the alys profile -------------------------------------------------------------
def http_get(node: NodeProc, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.rpc_port}{path}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_health_reports_every_actor(launch):
    a = launch("a", dev=True)
    h = a.rpc("node_health")
    assert h["ok"] and h["state"] == "ok"
    for name in ("storage", "chain", "sync", "network", "rpc"):
        assert h["actors"][name]["state"] == "running", h
    status, body = http_get(a, "/health")
    assert status == 200 and json.loads(body)["actors"].keys() == h["actors"].keys()


def v1_call(node: NodeProc, method: str, params) -> dict:
    """A JSON-RPC 1.0 request as the real Alys node takes it: no "jsonrpc", bare params."""
    body = json.dumps({"method": method, "params": params, "id": 1}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{node.rpc_port}/", body)
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def test_alys_profile_names_flags_and_metrics(launch, tmp_path):
    secret = tmp_path / "jwt.hex"
    secret.write_text("ab" * 32)
    a = launch("a", dev=True)
    head = a.rpc("dev_produceBlocks", 4)
    # --db-path comes after the launcher's --datadir: the alias is the one that counts
    b = launch("b", "--db-path", str(tmp_path / "b-db"), "--remote-bootnode", a.addr,
               "--jwt-secret", str(secret))  # fmt: skip
    wait_until(lambda: b.rpc("chain_head") == head, 30, "b synced through --remote-bootnode")
    assert (tmp_path / "b-db" / "chain.sqlite").exists()
    r = v1_call(b, "getheadblock", None)
    ep = r["result"]["message"]["execution_payload"]
    assert r["error"] is None and ep["block_number"] == 4 and ep["block_hash"] == head["hash"]
    by_h = v1_call(b, "getblockbyheight", 2)["result"]["message"]["execution_payload"]
    by_hash = v1_call(b, "getblockbyhash", by_h["block_hash"][2:])["result"]
    assert by_hash["message"]["execution_payload"] == by_h
    assert b.rpc("getblockbyheight", 2)["message"]["execution_payload"] == by_h
    assert v1_call(b, "getblockbyheight", 1 << 63)["error"]["code"] == -32602
    _, text = http_get(b, "/metrics")
    assert "\nchain_block_height 4.0\n" in text.decode()
    assert "\nalys_head_height 4.0\n" in text.decode()
