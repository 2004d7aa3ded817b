"""Black-box observations: peers, bans and new blocks measured from outside any node.

Why: the real Alys node serves no admin or dev RPC (no ``admin_peers``, ``admin_bans``,
``dev_produceBlocks``). What those answer is still visible from outside — every cluster link
passes through the framework's FaultProxy and every node is a process on this host — so a
profile lacking the RPC gets a measurement instead of an ``unsupported``.

Rules:
1. Peers: node i's peers are the nodes it holds an open TCP connection with, seen at the proxy
   (proxied links) and in the kernel's socket table (direct loopback links, e.g. peer
   exchange). Misses: connections to anything outside the cluster; counts a connection the
   node holds open before (or without) admitting the peer, e.g. during the handshake.
2. Bans (``judge_ban``, pure): the connection with the liar *ended* by a node's own close
   (EOF seen at the proxy, from either side: a refusing node may send a reason the other side
   then hangs up on; a proxy abort or a kill is no end), and after the offending fault was
   cleared — so the liar now behaves — for ``window_s`` no connection between the two stayed
   open ``hold_s``, at least one was attempted, and every one was closed (refused), none
   still pending. A node that only disconnects re-admits the now-honest peer and keeps it
   (NOT banned); no attempt in the window is inconclusive (``banned`` None), since a ban and
   a node that never redials look alike from outside.
3. New blocks from a node that produces by itself (Aura, one block per owned slot): "produce
   n" is a wait until its head has grown by n, failing as a stall (``Stalled``) when the head
   does not move for ``stall_s``. It cannot produce exactly n, nor on a chain whose tip slot
   lies in the future, so tests needing that still need ``dev_produceBlocks``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

from ...waiting import wait_for_progress, wait_until
from .fault_proxy import ConnRecord, FaultRecord

if TYPE_CHECKING:
    from .launcher import NodeCluster
    from .node_process import NodeProcess

LOOPBACK = "127.0.0.1"
PENDING = "undecided: the window runs, or a connection is neither refused nor held yet"


# -- peers ----------------------------------------------------------------------------------
def _sockets(node: NodeProcess) -> list[Any]:
    if not node.running or not node.pid:
        return []
    try:
        return [
            c
            for c in psutil.Process(node.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.raddr
        ]
    except psutil.Error:
        return []


def direct_peers(cluster: NodeCluster, i: int) -> set[int]:
    """Nodes ``i`` holds a direct loopback connection with (rule 1: the kernel's view)."""
    me = cluster.nodes[i]
    others = {n.index: n for n in cluster.nodes if n.index != i and n.running}
    by_port = {n.p2p_port: j for j, n in others.items()}
    mine = _sockets(me)
    found = {
        by_port[c.raddr.port] for c in mine if c.raddr.ip == LOOPBACK and c.raddr.port in by_port
    }
    inbound = {
        (c.raddr.ip, c.raddr.port)
        for c in mine
        if c.laddr.port == me.p2p_port and c.raddr.ip == LOOPBACK
    }
    if inbound:
        for j, n in others.items():
            if any((c.laddr.ip, c.laddr.port) in inbound for c in _sockets(n)):
                found.add(j)
    return found


def observed_peers(cluster: NodeCluster, i: int) -> list[dict[str, Any]]:
    """``admin_peers`` as measured (rule 1): one entry per peer node, ``via`` proxy or direct;
    ``head`` is None (the wire does not say)."""
    proxied = cluster.proxy.live_peers(i) if cluster.proxy is not None else set()
    direct = direct_peers(cluster, i) - proxied
    return [
        {
            "id": cluster.nodes[j].name,
            "addr": cluster.nodes[j].p2p_addr,
            "via": "proxy" if j in proxied else "direct",
            "head": None,
        }
        for j in sorted(proxied | direct)
        if j < len(cluster.nodes)
    ]


# -- bans -----------------------------------------------------------------------------------
@dataclass
class BanObservation:
    """What rule 2 concluded and the connections it was concluded from."""

    banned: bool | None
    evidence: str
    ended: bool = False  # a connection between them ended by a node's own close
    attempts: int = 0  # connections between the two opened in the window
    longest_s: float = 0.0  # the longest any of them stayed open
    window_s: float = 0.0
    connections: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "banned": self.banned, "evidence": self.evidence, "attempts": self.attempts,
            "longest_s": round(self.longest_s, 3), "window_s": self.window_s,
        }  # fmt: skip


def ended_by_node(records: Sequence[ConnRecord], victim: int | None, since: float = 0.0) -> bool:
    """``victim`` (None: either node) ended one of ``records`` at or after ``since``."""
    return any(
        r.closed_by is not None
        and (victim is None or r.closed_by == victim)
        and r.closed_at is not None
        and r.closed_at >= since
        for r in records
    )


def ended_by(cluster: NodeCluster, node: int, since: float = 0.0) -> list[int]:
    """The peers ``node`` itself disconnected since ``since`` (its own choice, not a fault or
    a restart of the peer): for an honest link this stays empty."""
    proxy = cluster.proxy
    if proxy is None:
        return []
    peers = {r.dst if r.src == node else r.src for r in proxy.conn_log if node in (r.src, r.dst)}
    return sorted(p for p in peers if ended_by_node(proxy.connections(node, p), node, since))


def judge_ban(
    records: Sequence[ConnRecord],
    victim: int,
    window_start: float,
    now: float,
    window_s: float,
    hold_s: float,
    since: float = 0.0,
) -> BanObservation:
    """Rule 2 over the proxy's connection records between victim and liar (monotonic times).
    Decides early once a connection held ``hold_s``; else at the window's end."""
    closed = ended_by_node(records, None, since)
    in_window = [r for r in records if r.opened_at >= window_start]
    before = [r for r in records if r.opened_at < window_start and r.open]
    longest = max((r.lifetime(now) for r in in_window + before), default=0.0)
    obs = BanObservation(
        None, PENDING, ended=closed, attempts=len(in_window),
        longest_s=longest, window_s=window_s,
        connections=[
            {"opened_s": round(r.opened_at - window_start, 3),
             "lifetime_s": round(r.lifetime(now), 3), "closed_by": r.closed_by,
             "bytes": [r.bytes_fwd, r.bytes_back]}
            for r in records[-10:]
        ],
    )  # fmt: skip
    if not closed:
        obs.banned, obs.evidence = False, "the connection with the liar never ended"
    elif longest >= hold_s:
        obs.banned = False
        obs.evidence = (
            f"re-admitted: a connection with the liar stayed open {longest:.2f} s "
            f">= {hold_s:g} s after the fault was cleared"
        )
    elif now - window_start < window_s or any(r.open for r in in_window + before):
        pass  # PENDING
    elif not in_window:
        obs.evidence = f"inconclusive: no connection between them was attempted in {window_s:g} s"
    else:
        obs.banned = True
        obs.evidence = (
            f"the liar's connection ended and all {len(in_window)} "
            f"reconnects in {window_s:g} s (none stayed open {hold_s:g} s)"
        )
    return obs


async def observed_ban(
    cluster: NodeCluster,
    victim: int,
    liar: int,
    *,
    timeout_s: float,
    clear: FaultRecord | None = None,
    window_s: float | None = None,
    hold_s: float | None = None,
    since: float | None = None,
) -> BanObservation:
    """Whether ``victim`` banned ``liar``, measured at the proxy (rule 2).

    Waits up to ``timeout_s`` for the victim to end a connection with the liar, then clears
    ``clear`` (the fault that made the liar lie: it must now behave, or a node that merely
    disconnects would look banned), then watches ``window_s`` (default: the cluster's stall
    window) for re-admission: a connection that stays open ``hold_s`` (default half the
    window). Both must keep running throughout: a node that died proves nothing.
    ``since`` (monotonic, default: now): only a disconnect from then on counts, so a restart
    of the victim before the lie is not taken for its verdict.
    """
    proxy = cluster.proxy
    assert proxy is not None
    window = window_s if window_s is not None else cluster.stall_s
    hold = hold_s if hold_s is not None else window / 2
    t0 = time.monotonic() if since is None else since

    def pair() -> list[ConnRecord]:
        return proxy.connections(victim, liar)

    def closed() -> bool:
        return ended_by_node(pair(), None, t0)

    what = f"the connection {cluster.nodes[victim].name} - {cluster.nodes[liar].name} ends"
    try:
        await wait_until(closed, timeout_s, what, observe=lambda: _conn_summary(pair()))
    except TimeoutError:
        if clear is not None:
            proxy.clear(clear)
        now = time.monotonic()
        return judge_ban(pair(), victim, now, now, window, hold, t0)
    if clear is not None:
        proxy.clear(clear)
    start = time.monotonic()
    result: list[BanObservation] = []

    def decided() -> bool:
        now = time.monotonic()
        obs = judge_ban(pair(), victim, start, now, window, hold, t0)
        result[:] = [obs]
        return obs.evidence != PENDING

    await wait_until(decided, window + hold + timeout_s, "ban window observed", poll_s=0.05)
    obs = result[0]
    for who in (victim, liar):  # a crashed node's sockets close too: that is no ban
        if not cluster.nodes[who].running:
            obs.banned, obs.evidence = None, f"inconclusive: {cluster.nodes[who].name} stopped"
    return obs


def _conn_summary(records: Sequence[ConnRecord]) -> list[tuple[Any, ...]]:
    now = time.monotonic()
    return [
        (r.cid, "open" if r.open else f"closed by {r.closed_by}", round(r.lifetime(now), 2))
        for r in records[-5:]
    ]


# -- new blocks -----------------------------------------------------------------------------
async def wait_self_produced(
    node: NodeProcess, n: int, stall_s: float, timeout_s: float = 120.0
) -> dict[str, Any]:
    """Rule 3: the node's head after it grew by ``n`` blocks on its own (canonical head)."""
    start = await node.height()
    await wait_for_progress(
        node.height, lambda h: h >= start + n,
        f"{node.name} produces {n} block(s) by itself above height {start}",
        stall_s=stall_s, timeout_s=timeout_s, poll_s=0.05,
    )  # fmt: skip
    head: dict[str, Any] = await node.call("chain_head")
    return head
