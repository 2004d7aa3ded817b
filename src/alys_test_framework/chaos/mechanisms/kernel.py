"""Kernel-level network faults with nftables, where the run is root: a partition drops every
packet of the target's P2P traffic in the kernel, congestion polices it to a byte rate.

Rules:
1. Each fault is one nftables table of its own (``inet alys_chaos_<pid>_<event>``), recorded in
   the clean-up journal before it is created and deleted when the fault lifts (or by the
   journal's replayers: nothing outlives the run).
2. The target's traffic is every TCP packet to or from its P2P port and the proxy ports it
   dials (every cluster link passes the fault proxy on loopback); the RPC port is untouched, so
   the run still observes the node. The table's rules carry counters: the packets dropped are
   read back from the kernel.
3. Effects are measured, not assumed: a partition by a TCP connect to the target's P2P port
   that must fail while the table holds (the SYN is dropped) and the rules' drop counters; the
   rate by a timed transfer through a probe listener whose port is policed by the same rule,
   against an unpoliced transfer measured just before, in the same run.
4. Delay, jitter, loss and corruption need tc netem (sch_netem), which this kernel lacks: asked
   of the kernel (``network="kernel"``) they are ``unsupported`` naming netem; the fault proxy
   injects them otherwise. Rate uses nftables policing, not tc tbf: a tbf bucket must hold one
   whole 64 KiB loopback packet, which would let a window's traffic through in its burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from typing import Any

from .base import Effect, connected, head
from .network import CongestionFault, NetworkPartitionFault

NETEM_MISSING = ("kernel delay/jitter/loss/corruption need tc netem (sch_netem), which this "
                 "kernel does not have; the fault proxy injects them (network mode auto/proxy)")  # fmt: skip
PROBE_MSS = 1000  # the probe's segments stay far below the policer's burst
_probe_cache: dict[str, str | None] = {}


def nft_unavailable() -> str | None:
    """None if this process can create and delete an nftables table; else why not."""
    if "nft" in _probe_cache:
        return _probe_cache["nft"]
    why: str | None = None
    exe = shutil.which("nft")
    if os.geteuid() != 0:
        why = "kernel network faults need root (run as root, as CI does)"
    elif exe is None:
        why = "nft not found: apt-get install nftables"
    else:
        name = f"alys_probe_{os.getpid()}"
        r = subprocess.run([exe, "add", "table", "inet", name], capture_output=True, text=True,
                           timeout=10, check=False)  # fmt: skip
        if r.returncode != 0:
            why = f"nft cannot create a table here: {r.stderr.strip()[:120]}"
        subprocess.run([exe, "delete", "table", "inet", name], capture_output=True, timeout=10,
                       check=False)  # fmt: skip
    _probe_cache["nft"] = why
    return why


def _nft(script: str) -> None:
    exe = shutil.which("nft") or "nft"
    r = subprocess.run([exe, "-f", "-"], input=script, capture_output=True, text=True,
                       timeout=20, check=False)  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(f"nft -f failed: {r.stderr.strip()[:200]}")


def nft_counters(table: str) -> dict[str, int]:
    """Packets and bytes counted by the table's rules, summed (from ``nft -j``)."""
    exe = shutil.which("nft") or "nft"
    r = subprocess.run([exe, "-j", "list", "table", "inet", table], capture_output=True,
                       text=True, timeout=10, check=False)  # fmt: skip
    out = {"packets": 0, "bytes": 0}
    with contextlib.suppress(ValueError, KeyError, TypeError):
        for item in json.loads(r.stdout)["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    out["packets"] += int(expr["counter"]["packets"])
                    out["bytes"] += int(expr["counter"]["bytes"])
    return out


class _NftFault:
    """Rule 1-2: the table of one fault on one target's ports."""

    def _ports(self, extra: tuple[int, ...] = ()) -> list[int]:
        ctx, t = self.ctx, self.target  # type: ignore[attr-defined]
        proxy = ctx.cluster.proxy
        ports = {ctx.cluster.nodes[t].p2p_port, *extra}
        if proxy is not None:
            ports |= {link.port for (a, _), link in proxy.links.items() if a == t and link.port}
        return sorted(p for p in ports if p)

    def _create(self, body: str) -> None:
        ev = self.event  # type: ignore[attr-defined]
        self.table = f"alys_chaos_{os.getpid()}_{ev.id}"
        self.table_rid = self.ctx.journal.record("nft", family="inet", table=self.table)  # type: ignore[attr-defined]
        _nft(f"table inet {self.table} {{\n chain input {{\n  type filter hook input priority "
             f"-10; policy accept;\n{body} }}\n}}\n")  # fmt: skip

    def _delete(self) -> None:
        if hasattr(self, "table_rid"):
            self.ctx.journal.release(self.table_rid)  # type: ignore[attr-defined]


async def _connect_fails(port: int, timeout_s: float = 1.0) -> tuple[bool, str]:
    """A fresh TCP connect to 127.0.0.1:port: (failed, how) — a dropped SYN times out."""
    try:
        _, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout_s)
    except TimeoutError:
        return True, f"connect timed out after {timeout_s:g} s"
    except OSError as exc:
        return True, f"connect refused: {exc.strerror or exc}"
    w.close()
    with contextlib.suppress(Exception):
        await w.wait_closed()
    return False, "connected"


class KernelPartitionFault(_NftFault, NetworkPartitionFault):
    """Isolates the target by dropping its P2P packets in the kernel (rule 2)."""

    name = "nftables"

    @classmethod
    def unavailable(cls) -> str | None:
        return nft_unavailable()

    async def start(self) -> None:
        await connected(self.ctx, self.target)
        self._h0 = {i: await head(self.ctx, i) for i in range(self.ctx.n)}
        ports = ",".join(map(str, self._ports()))
        self._create(f"  tcp dport {{ {ports} }} counter drop\n"
                     f"  tcp sport {{ {ports} }} counter drop\n")  # fmt: skip

    async def measure(self) -> Effect:
        node = self.ctx.cluster.nodes[self.target]
        failed, how = await _connect_fails(node.p2p_port)
        c = await asyncio.to_thread(nft_counters, self.table)
        heads = {i: await head(self.ctx, i) for i in range(self.ctx.n)}
        known = [h for h in heads.values() if h is not None]
        spread = (max(known) - min(known)) if known else None
        return Effect(failed and c["packets"] > 0,
                      f"nftables dropped {c['packets']} packets ({c['bytes']} bytes) of "
                      f"node-{self.target}'s P2P traffic; a fresh connect to its P2P port: {how}; "
                      f"head spread {spread}",
                      {"mechanism": "nftables", "dropped_packets": c["packets"],
                       "dropped_bytes": c["bytes"], "probe_connect_failed": failed,
                       "probe": how, "head_spread": spread, "table": self.table})  # fmt: skip

    async def stop(self) -> None:
        await asyncio.to_thread(self._delete)


class _Sink:
    """A loopback listener that counts what it receives: the timed transfer's far end."""

    async def open(self) -> int:
        self.received = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server = await asyncio.start_server(self._on, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _on(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writers.append(w)
        with contextlib.suppress(Exception):
            while chunk := await r.read(65536):
                self.received += len(chunk)
        w.close()

    async def close(self) -> None:
        for w in self.writers:  # EOF for every reader: a cancelled one logs noise in 3.11
            w.transport.abort()
        await asyncio.sleep(0)
        self.server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)


def _send_for(port: int, seconds: float) -> None:
    """Blocking: send as fast as the kernel lets us for ``seconds`` (small segments)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with contextlib.suppress(OSError):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, PROBE_MSS)
    s.settimeout(0.2)
    chunk = b"\0" * 4096
    end = time.monotonic() + seconds
    try:
        s.connect(("127.0.0.1", port))
        while time.monotonic() < end:
            with contextlib.suppress(TimeoutError, socket.timeout):
                s.send(chunk)
    except OSError:
        pass
    finally:
        s.close()


async def timed_transfer(sink: _Sink, port: int, seconds: float) -> float:
    """Bytes per second the sink received over ``seconds`` of sending."""
    before = sink.received
    t0 = time.monotonic()
    await asyncio.to_thread(_send_for, port, seconds)
    await asyncio.sleep(0.1)  # the last segments in flight on loopback
    return (sink.received - before) / max(1e-6, time.monotonic() - t0)


class KernelCongestionFault(_NftFault, CongestionFault):
    """Polices the target's P2P traffic to ``bandwidth_bps`` in the kernel (rule 2-3)."""

    name = "nftables"
    PROBE_S = 1.0

    @classmethod
    def unavailable(cls) -> str | None:
        return nft_unavailable()

    async def start(self) -> None:
        self.sink = _Sink()
        port = await self.sink.open()
        self.unshaped_bps = await timed_transfer(self.sink, port, self.PROBE_S)
        await CongestionFault.start(self)  # proxy counters for the nodes' own traffic
        cap = int(self.params["bandwidth_bps"])
        burst = 2 * (PROBE_MSS + 100)
        ports = ",".join(map(str, self._ports((port,))))
        self._create(
            f"  tcp dport {{ {ports} }} limit rate over {cap} bytes/second burst {burst} bytes"
            f" counter drop\n  tcp sport {{ {ports} }} limit rate over {cap} bytes/second burst"
            f" {burst} bytes counter drop\n"
        )  # fmt: skip
        self.port = port

    def _apply(self) -> Any:
        proxy = self.ctx.cluster.proxy
        assert proxy is not None
        return proxy.apply(self._pairs, f"chaos:{self.event.type.value}:observe")  # no proxy cap

    async def measure(self) -> Effect:
        shaped = await timed_transfer(self.sink, self.port, self.PROBE_S)
        c = await asyncio.to_thread(nft_counters, self.table)
        cap = float(self.params["bandwidth_bps"])
        d = self.delta()
        secs = max(1e-6, time.monotonic() - self._t0)
        per_pair = d["bytes"] / secs / max(1, len(self._pairs))
        # the probe's own bucket allows one burst on top of the rate
        bound = 1.5 * cap + 2 * (PROBE_MSS + 100) / self.PROBE_S
        seen = shaped <= bound and shaped < self.unshaped_bps / 10 and c["packets"] > 0
        return Effect(seen,
                      f"timed transfer through the policed port {shaped:.0f} B/s (cap {cap:.0f}; "
                      f"unpoliced {self.unshaped_bps / 1e6:.1f} MB/s just before); nftables "
                      f"dropped {c['packets']} packets over the cap; node links {per_pair:.0f} "
                      "B/s per direction",
                      {"mechanism": "nftables", "probe_bps": round(shaped, 1),
                       "unshaped_probe_bps": round(self.unshaped_bps, 1), "cap_bps": cap,
                       "dropped_packets": c["packets"], "bytes_per_s_per_pair": round(per_pair, 1),
                       "table": self.table})  # fmt: skip

    async def stop(self) -> None:
        await CongestionFault.stop(self)
        await asyncio.to_thread(self._delete)
        if hasattr(self, "sink"):
            await self.sink.close()


__all__ = ["NETEM_MISSING", "KernelCongestionFault", "KernelPartitionFault", "nft_unavailable"]
