"""Who may connect: bans by IP and by node id, pending-connection caps (sans-I/O).

Rules (issue #14, D2/D5):
- Before a handshake a peer is only an IP: an offence then is scored against the IP, so a new
  socket (a new ephemeral port) is the same offender.
- After the handshake an offence is scored against the node id; its ban also refuses dials to
  the advertised address and costs the IP a strike (IP_STRIKE): three identities banned from one
  IP within the ban time ban the IP, so fresh node ids do not evade for long.
- A banned IP's new inbound connections are refused at accept, except that node ids which
  completed a clean handshake from that IP before the ban keep their place (loopback clusters put
  every node on 127.0.0.1; one offender must not cut off its neighbours). Such a connection must
  show its Hello, and a node id first seen during the ban is refused. Our own dials are judged
  by the dialed address and the node id only: we chose that address, and a restarted honest
  neighbour comes back with a new node id.
- At most ``pending_per_ip`` connections per IP and ``pending_total`` in all may be waiting for
  their handshake; a new one beyond either cap evicts the oldest pending one (of that IP, else
  overall). Idle sockets cannot hold the door shut: an honest Hello completes in one round trip,
  well before the pending ones that crowd it out have all been evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from alys_node.p2p.scoring import BAN_THRESHOLD, Ban, Reputation

IP_STRIKE = BAN_THRESHOLD // 3 - 1  # three identity bans from one IP ban the IP
KNOWN_PER_IP = 32
KNOWN_IPS = 1024
PENDING_PER_IP = 32
PENDING_TOTAL = 128

C = TypeVar("C")


def ip_of(addr: str) -> str:
    """The host part of host:port (IPv6 hosts may be bracketed)."""
    return addr.rsplit(":", 1)[0].strip("[]")


class Admission(Generic[C]):
    def __init__(
        self,
        rep: Reputation,
        pending_per_ip: int = PENDING_PER_IP,
        pending_total: int = PENDING_TOTAL,
    ) -> None:
        self.rep = rep
        self.pending_per_ip = pending_per_ip
        self.pending_total = pending_total
        self._known: OrderedDict[str, OrderedDict[bytes, None]] = OrderedDict()
        self._pending: OrderedDict[C, str] = OrderedDict()  # conn -> ip, oldest first
        self._per_ip: dict[str, int] = {}

    # -- bans -----------------------------------------------------------------------------
    def _ip_banned(self, ip: str, now: float) -> bool:
        return self.rep.is_banned("ip:" + ip, now)

    def accept_reason(self, ip: str, now: float) -> str | None:
        """Why a new socket from ``ip`` is refused before any byte is read (None: accept)."""
        if self._ip_banned(ip, now) and not self._known.get(ip):
            return "banned address"
        return None

    def dial_reason(self, addr: str, now: float) -> str | None:
        """Why we do not dial ``addr`` (None: dial)."""
        if any(b.addr == addr for b in self.rep.active(now) if b.key.startswith("id:")):
            return "banned"
        return None

    def admit_reason(self, ip: str, node_id: bytes, now: float, inbound: bool = True) -> str | None:
        """Why a peer that sent a valid Hello is refused (None: admit)."""
        if self.rep.is_banned("id:" + node_id.hex(), now):
            return "banned"
        if inbound and self._ip_banned(ip, now) and node_id not in self._known.get(ip, ()):
            return "banned address"
        return None

    def welcome(self, ip: str, node_id: bytes) -> None:
        """Remember a node id that completed a clean handshake from ``ip`` (bounded)."""
        ids = self._known.pop(ip, None) or OrderedDict()
        ids[node_id] = None
        ids.move_to_end(node_id)
        while len(ids) > KNOWN_PER_IP:
            ids.popitem(last=False)
        self._known[ip] = ids
        while len(self._known) > KNOWN_IPS:
            self._known.popitem(last=False)

    def penalise(
        self,
        ip: str,
        node_id: bytes | None,
        addr: str | None,
        delta: int,
        reason: str,
        now: float,
    ) -> Ban | None:
        """Score an offence against the identity it can be pinned on; the new Ban, if any."""
        if node_id is None:
            return self.rep.penalise("ip:" + ip, delta, reason, now, addr=ip)
        key = "id:" + node_id.hex()
        ban = self.rep.penalise(key, delta, reason, now, addr=addr or ip)
        if ban is not None:
            self._forget(ip, node_id)
            self.rep.penalise("ip:" + ip, IP_STRIKE, f"{reason} (third banned peer)", now, ip)
        return ban

    def _forget(self, ip: str, node_id: bytes) -> None:
        ids = self._known.get(ip)
        if ids is not None:
            ids.pop(node_id, None)

    def score(self, node_id: bytes | None, ip: str) -> int:
        return self.rep.score("id:" + node_id.hex() if node_id else "ip:" + ip)

    # -- pending connections --------------------------------------------------------------
    def open_pending(self, ip: str, conn: C) -> list[C]:
        """Register a connection waiting for its handshake; returns the ones to evict."""
        evict: list[C] = []
        if self._per_ip.get(ip, 0) >= self.pending_per_ip:
            oldest = next(c for c, i in self._pending.items() if i == ip)
            evict.append(oldest)
            self.close_pending(oldest)
        if len(self._pending) >= self.pending_total:
            oldest = next(iter(self._pending))
            evict.append(oldest)
            self.close_pending(oldest)
        self._pending[conn] = ip
        self._per_ip[ip] = self._per_ip.get(ip, 0) + 1
        return evict

    def close_pending(self, conn: C) -> None:
        """The connection completed its handshake or ended (idempotent)."""
        ip = self._pending.pop(conn, None)
        if ip is not None:
            n = self._per_ip[ip] - 1
            if n:
                self._per_ip[ip] = n
            else:
                del self._per_ip[ip]

    def pending_count(self) -> int:
        return len(self._pending)
