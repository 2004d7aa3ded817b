"""The connection flood of issue #14's done-when: 300 idle + 110 trickling + 5 partial-frame
connections against one node. It must stay under 100 MB RSS and still accept and sync a
legitimate peer. Peak RSS is sampled from /proc through psutil during the whole attack and
recorded in the test's output (pytest -s shows it)."""

from __future__ import annotations

import socket
import struct
import threading
import time

import psutil

from alys_node.p2p import messages as m
from alys_node.p2p.frames import encode_frame

from .conftest import wait_until
from .test_node_hardening_node import client_hello

RSS_LIMIT = 100 << 20


class Sampler(threading.Thread):
    """Peak RSS of one process, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = self.proc.memory_info().rss
        self.baseline = self.peak
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return


def _open(port: int) -> socket.socket | None:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        return s
    except OSError:
        return None


def test_flood_of_idle_trickling_and_partial_connections(launch, spec):
    target = launch("target", dev=True)
    head = target.rpc("dev_produceBlocks", 50)
    assert target.proc is not None
    sampler = Sampler(target.proc.pid)
    sampler.start()
    socks: list[socket.socket] = []
    try:
        idle = [s for _ in range(300) if (s := _open(target.p2p_port))]
        trickle = [s for _ in range(110) if (s := _open(target.p2p_port))]
        partial = []
        for i in range(5):  # a valid Hello, then most of a maximal frame, never finished
            s = socket.create_connection(("127.0.0.1", target.p2p_port), timeout=5)
            hello = encode_frame(
                m.encode_payload(client_hello(spec, bytes([0x50 + i]) * 16), 1 << 20)
            )
            s.sendall(hello + struct.pack(">I", 2_400_000) + b"\0" * 2_000_000)
            partial.append(s)
        socks = idle + trickle + partial
        # the legitimate peer arrives in the middle of it
        legit = launch("legit", "--bootnode", target.addr)
        t_end = time.monotonic() + 12  # longer than the 10 s handshake deadline
        while time.monotonic() < t_end:
            for s in trickle:
                try:
                    s.send(b"\0")
                except OSError:
                    pass
            time.sleep(1.0)  # the attacker's pace (not a verdict: the waits below poll)
        wait_until(lambda: legit.rpc("chain_head") == head, 30, "the legitimate peer synced")
        alive_trickle = sum(1 for s in trickle if _still_open(s))
    finally:
        sampler.stop.set()
        sampler.join(5)
        for s in socks:
            s.close()
    print(
        f"\nflood: baseline RSS {sampler.baseline / 2**20:.1f} MB, peak {sampler.peak / 2**20:.1f}"
        f" MB; trickling connections still open after 12 s: {alive_trickle}/110"
    )
    assert sampler.peak < RSS_LIMIT, f"peak RSS {sampler.peak / 2**20:.1f} MB"
    assert alive_trickle == 0, "a trickling connection outlived the handshake deadline"
    assert target.rpc("node_health")["ok"]


def _still_open(s: socket.socket) -> bool:
    try:
        data = s.recv(65536)
    except BlockingIOError:
        return True
    except OSError:
        return False
    while data:  # drain what the node sent (its Hello, a Disconnect) and look again
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
    return False
