"""NetworkActor: TCP listener, dialer, peer table, reputation, gossip fan-out and discovery.

Each connection has a reader task that feeds bytes into its sans-I/O PeerProtocol and routes the
resulting events; commands from other actors (requests, gossip, bans, admin) come through the
mailbox. Any malformed input becomes a penalty with a logged reason, never an exception that
escapes the connection task.

Bounds (issue #14): a connection has HANDSHAKE_TIMEOUT in all to complete its handshake (not per
read: a byte every few seconds does not keep it open); before the handshake a frame may be at
most 64 KiB (the protocol's limit); pending connections are capped per IP and in all, the oldest
making room (p2p/admission.py); every event of a read is handled even if an earlier one fails,
so a penalty is applied also when the same read completed the handshake and then closed it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Coroutine
from typing import Any

from alys_actors import Actor, ActorRef, handler
from alys_node.actors import messages as msg
from alys_node.p2p import messages as m
from alys_node.p2p.admission import Admission
from alys_node.p2p.connection import Conn
from alys_node.p2p.protocol import (
    Event,
    HandshakeComplete,
    MessageReceived,
    PeerClosed,
    PeerProtocol,
    Penalty,
    State,
    Violation,
)
from alys_node.p2p.scoring import Reputation

log = logging.getLogger("alys_node.network")

SERVE_MAX_BYTES = 2 << 20
MAX_KNOWN = 256
HANDSHAKE_TIMEOUT = 10.0  # seconds for the whole handshake, from accept or connect
IDLE_TIMEOUT = 60.0  # seconds without a byte from an established peer
STABLE_S = 10.0  # a dialed connection that lived this long resets the redial backoff
STATUS_TICKS = 6  # maintenance ticks (0.5 s) between Status broadcasts


class NetworkActor(Actor):
    def __init__(self, node: Any) -> None:  # alys_node.node.Node (untyped: no import cycle)
        self.node = node
        self.rep: Reputation = node.reputation
        # admission state (bans, known ids) outlives a restart of this actor: it lives on the node
        if not isinstance(getattr(node, "admission", None), Admission):
            node.admission = Admission(self.rep)
        self.adm: Admission[Conn] = node.admission
        self.handshake_timeout = float(getattr(node, "handshake_timeout", HANDSHAKE_TIMEOUT))
        self.conns: set[Conn] = set()
        self.peers: dict[str, Conn] = {}
        self.static: set[str] = set(node.bootnodes)
        self.known: set[str] = set(node.bootnodes)
        self.backoff: dict[str, tuple[float, float]] = {}  # addr -> (next try, delay)
        self.dialing: set[str] = set()
        self.node_id = os.urandom(16)
        self.rng = node.rng
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._head = (0, b"")
        self._status_sent = (0, b"")

    # -- lifecycle ------------------------------------------------------------------------
    async def on_start(self) -> None:
        s = self.node.store
        self._head = (s.head_height, s.head_hash)
        # a restarted actor binds the port it had: peers know this node by it
        port = self.node.p2p_port or self.node.p2p_port_arg
        self._server = await asyncio.start_server(self._on_inbound, self.node.host, port)
        self.node.p2p_port = self._server.sockets[0].getsockname()[1]
        self._spawn(self._maintain())

    async def on_stop(self) -> None:
        if self._server:
            self._server.close()
        for c in list(self.conns):
            c.proto.close("shutting down")
            try:
                await asyncio.wait_for(c.flush(), 0.5)
            except Exception:
                pass
            c.abort()
        for t in list(self._tasks):
            t.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        t = asyncio.create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    def _ref(self, name: str) -> ActorRef:
        ref = self.system.registry.lookup(name)
        assert ref is not None, name
        return ref

    def _hello(self) -> m.Hello:
        spec = self.node.spec
        return m.Hello(
            m.PROTOCOL_VERSION,
            spec.chain_id,
            self.node.genesis_hash,
            self._head[0],
            self._head[1],
            self.node.p2p_port,
            self.node_id,
        )

    def _new_proto(self) -> PeerProtocol:
        max_block = self.node.spec.max_block_bytes + 4096
        # the largest honest frame is a Blocks reply: SERVE_MAX_BYTES plus the block that crosses
        # it; anything more is only memory a peer could make us hold
        max_frame = SERVE_MAX_BYTES + max_block + (64 << 10)
        return PeerProtocol(self._hello(), max_frame=max_frame, max_block=max_block)

    # -- connections ----------------------------------------------------------------------
    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        ip = str(peer[0])
        if self.adm.accept_reason(ip, time.time()) is not None:
            writer.close()
            return
        conn = Conn(self._new_proto(), reader, writer, True, f"{ip}:{peer[1]}")
        for old in self.adm.open_pending(ip, conn):
            old.proto.close("too many pending connections")
            old.abort()
        await self._run(conn)

    async def _dial(self, addr: str) -> None:
        if addr in self.dialing or self.adm.dial_reason(addr, time.time()) is not None:
            return
        self.dialing.add(addr)
        try:
            host, port = addr.rsplit(":", 1)
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 3)
        except (OSError, ValueError, TimeoutError) as e:
            self._failed(addr)
            log.debug("dial failed", extra={"addr": addr, "error": str(e)})
            return
        finally:
            self.dialing.discard(addr)
        conn = Conn(self._new_proto(), reader, writer, False, addr, dialed_addr=addr)
        self._spawn(self._run(conn))

    def _failed(self, addr: str) -> None:
        _, delay = self.backoff.get(addr, (0.0, 0.25))
        delay = min(30.0, delay * 2)
        self.backoff[addr] = (time.monotonic() + delay * (0.9 + 0.2 * self.rng.random()), delay)

    async def _run(self, conn: Conn) -> None:
        self.conns.add(conn)
        metrics = self.node.metrics
        loop = asyncio.get_running_loop()
        handshake_by = loop.time() + self.handshake_timeout
        try:
            await conn.flush(metrics)
            while conn.proto.state is not State.CLOSED:
                limit = IDLE_TIMEOUT if conn.id else handshake_by - loop.time()
                try:
                    if limit <= 0:
                        raise TimeoutError
                    data = await asyncio.wait_for(conn.reader.read(1 << 16), limit)
                except TimeoutError:
                    if conn.id:
                        what = f"idle for {IDLE_TIMEOUT:.0f} s"
                    else:
                        what = f"no handshake within {self.handshake_timeout:g} s"
                    await self._violation(conn, Violation(what, Penalty.TIMEOUT, True))
                    break
                if not data:
                    break
                metrics.bytes_in.inc(len(data))
                for ev in conn.proto.receive_data(data):
                    await self._on_event_safely(conn, ev)
                await conn.flush(metrics)
            await conn.flush(metrics)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in handling must not kill the node: drop the peer
            log.error("connection handler error", extra={"peer": conn.key, "error": repr(e)})
        finally:
            conn.abort()
            self.conns.discard(conn)
            self.adm.close_pending(conn)
            if conn.id and self.peers.get(conn.id) is conn:
                del self.peers[conn.id]
                self.node.metrics.peers.set(len(self.peers))
                try:
                    await self._ref("sync").tell(msg.PeerGone(conn.id))
                except Exception:
                    pass
            if conn.dialed_addr:
                # a connection that lived a while ended normally: redial at once; one refused
                # or dropped early (full, banned, flapping) backs off exponentially
                if conn.id and time.monotonic() - conn.opened >= STABLE_S:
                    self.backoff.pop(conn.dialed_addr, None)
                else:
                    self._failed(conn.dialed_addr)

    async def _on_event_safely(self, conn: Conn, ev: Event) -> None:
        """A failure handling one event must not skip the next: a Violation behind a Hello in
        the same read is still applied (D4)."""
        try:
            await self._on_event(conn, ev)
        except (ConnectionError, OSError):
            raise
        except Exception as e:
            log.error("connection event error", extra={"peer": conn.key, "error": repr(e)})
            if not isinstance(ev, Violation):
                await self._violation(conn, Violation(f"unhandled: {e!r}", 0, True, ban=False))

    async def _on_event(self, conn: Conn, ev: Event) -> None:
        if isinstance(ev, MessageReceived):
            await self._on_message(conn, ev.msg)
        elif isinstance(ev, HandshakeComplete):
            await self._on_handshake(conn, ev.hello)
        elif isinstance(ev, Violation):
            await self._violation(conn, ev)
        elif isinstance(ev, PeerClosed):
            log.info("peer closed", extra={"peer": conn.key, "reason": ev.reason})

    async def _on_handshake(self, conn: Conn, hello: m.Hello) -> None:
        addr = f"{conn.ip}:{hello.listen_port}"
        conn.node_id, conn.addr = hello.node_id, addr  # from here on, offences are the node's
        if conn.proto.state is not State.READY:
            return  # a fatal violation later in the same read closed it; it is penalised next
        self.adm.close_pending(conn)
        nid = hello.node_id.hex()
        now = time.time()
        reason = self.adm.admit_reason(conn.ip, hello.node_id, now, conn.inbound)
        if reason:
            pass
        elif nid in self.peers:
            reason = "duplicate connection"
        elif len(self.peers) >= self.node.max_peers and "ignore-max-peers" not in self.node.bugs:
            reason = "too many peers"
        if reason:
            conn.proto.close(reason)
            log.info("peer refused", extra={"peer": addr, "reason": reason})
            return
        self.adm.welcome(conn.ip, hello.node_id)
        conn.id, conn.head = nid, hello.head_height
        conn.last_pong = time.monotonic()
        self.peers[nid] = conn
        self.node.metrics.peers.set(len(self.peers))
        self.known.add(addr)
        log.info("peer connected", extra={"peer": addr, "inbound": conn.inbound})
        conn.proto.send(m.Status(*self._head))
        if len(self.peers) < self.node.max_peers:
            conn.proto.send(m.GetPeers())
        await self._ref("sync").tell(msg.PeerHead(nid, hello.head_height))

    async def _violation(self, conn: Conn, v: Violation) -> None:
        key = conn.key
        now = time.time()
        ban = None
        if v.ban and v.penalty:
            ban = self.adm.penalise(conn.ip, conn.node_id, conn.addr, v.penalty, v.reason, now)
        log.warning(
            "peer penalised",
            extra={
                "peer": key,
                "reason": v.reason,
                "penalty": v.penalty,
                "score": self.adm.score(conn.node_id, conn.ip),
            },
        )
        if ban is not None:
            self.node.metrics.bans.inc()
            log.warning("peer banned", extra={"peer": key, "reason": v.reason, "until": ban.until})
        if v.fatal or ban is not None:
            conn.proto.close(v.reason)
            self._spawn(self._flush_close(conn))

    async def _on_message(self, conn: Conn, mm: m.Message) -> None:
        if not conn.id:
            return
        if isinstance(mm, m.Status):
            conn.head = max(conn.head, mm.head_height)
            await self._ref("sync").tell(msg.PeerHead(conn.id, mm.head_height))
        elif isinstance(mm, m.GetBlocks | m.GetHeaders):
            await self._serve(conn, mm)
        elif isinstance(mm, m.Blocks):
            await self._ref("sync").tell(msg.BlocksArrived(conn.id, mm.req_id, mm.blocks))
        elif isinstance(mm, m.NewBlock):
            await self._ref("chain").tell(msg.GossipBlock(mm.block, conn.id))
        elif isinstance(mm, m.GetPeers):
            addrs = [c.addr for c in self.peers.values() if c is not conn][:32]
            conn.proto.send(m.Peers(tuple(addrs)))
        elif isinstance(mm, m.Peers):
            for a in mm.addrs[:32]:
                if len(self.known) < MAX_KNOWN and ":" in a:
                    self.known.add(a)
        elif isinstance(mm, m.Pong):
            conn.last_pong = time.monotonic()

    async def _serve(self, conn: Conn, req: m.GetBlocks | m.GetHeaders) -> None:
        head = self._head[0]
        if req.start > head + 1:
            await self._violation(
                conn,
                Violation(f"request for {req.start} beyond head {head}", Penalty.BAD_RANGE, False),
            )
        storage = self._ref("storage")
        if isinstance(req, m.GetBlocks):
            shared = "shared-serve-slot" in self.node.bugs
            if shared:  # seeded bug: one slot for every connection's request
                self._serving = (conn, req)
            blobs = await storage.ask(
                msg.GetRange(req.start, req.count, SERVE_MAX_BYTES), timeout=30
            )
            if shared:
                conn, req = self._serving
            conn.proto.send(m.Blocks(req.req_id, tuple(blobs)))
        else:
            from alys_node.chain.block import Header

            raw = await storage.ask(msg.GetHeaderRange(req.start, req.count), timeout=30)
            conn.proto.send(m.Headers(req.req_id, tuple(Header.decode(h) for h in raw)))

    # -- periodic work --------------------------------------------------------------------
    async def _maintain(self) -> None:
        tick = 0
        while True:
            tick += 1
            now = time.monotonic()
            if len(self.peers) < self.node.max_peers or "ignore-max-peers" in self.node.bugs:
                connected = {c.addr for c in self.peers.values()} | {
                    c.dialed_addr for c in self.conns if c.dialed_addr
                }
                own = f"{self.node.host}:{self.node.p2p_port}"
                cands = sorted((self.static | self.known) - connected - {own} - self.dialing)
                due = [a for a in cands if self.backoff.get(a, (0.0, 0.0))[0] <= now]
                for a in due[: max(0, self.node.max_peers - len(self.peers))]:
                    self.backoff.setdefault(a, (0.0, 0.25))
                    self._spawn(self._dial(a))
            if tick % STATUS_TICKS == 0 and self._head != self._status_sent:
                self._status_sent = self._head
                for c in list(self.peers.values()):
                    if c.proto.state.value == "ready":
                        c.proto.send(m.Status(*self._head))
                        self._spawn(self._flush(c))
            if tick % 10 == 0:
                for c in list(self.peers.values()):
                    if now - c.last_pong > 30:
                        await self._violation(c, Violation("ping timeout", Penalty.TIMEOUT, True))
                        continue
                    try:
                        c.proto.ping(self.rng.getrandbits(64))
                        if len(self.peers) < self.node.max_peers and tick % 20 == 0:
                            c.proto.send(m.GetPeers())
                        await c.flush(self.node.metrics)
                    except Exception:
                        pass
            await asyncio.sleep(0.5)

    # -- commands -------------------------------------------------------------------------
    @handler(msg.SendRequest)
    async def on_request(self, r: msg.SendRequest) -> int | None:
        conn = self.peers.get(r.peer)
        if conn is None or conn.proto.state.value != "ready":
            return None
        req_id = conn.proto.request(m.GetBlocks, r.start, r.count)
        self._spawn(self._flush(conn))
        return req_id

    async def _flush(self, conn: Conn) -> None:
        try:
            await conn.flush(self.node.metrics)
        except (ConnectionError, OSError):
            conn.abort()

    @handler(msg.CancelRequest)
    def on_cancel(self, r: msg.CancelRequest) -> None:
        if conn := self.peers.get(r.peer):
            conn.proto.cancel(r.req_id)

    @handler(msg.Penalise)
    async def on_penalise(self, p: msg.Penalise) -> None:
        conn = self.peers.get(p.peer)
        if conn is not None:
            await self._violation(conn, Violation(p.reason, p.delta, False))
            self._spawn(self._flush(conn))

    @handler(msg.Announce)
    def on_announce(self, a: msg.Announce) -> int:
        if a.forwarded and "no-gossip" in self.node.bugs:
            return 0
        targets = [c for c in self.peers.values() if c.id != a.exclude]
        if len(targets) > 8:
            targets = self.rng.sample(targets, 8)
        for c in targets:
            c.proto.send(m.NewBlock(a.data))
            self._spawn(self._flush(c))
        return len(targets)

    @handler(msg.NewHead)
    def on_new_head(self, h: msg.NewHead) -> None:
        """Remember the head for Hello/Status. Status goes out periodically, not per block: new
        blocks travel by gossip, Status is the slow safety net that lets a peer that missed
        gossip catch up by sync."""
        self._head = (h.height, h.hash)

    @handler(msg.AddPeer)
    def on_add_peer(self, a: msg.AddPeer) -> bool:
        self.static.add(a.addr)
        self.known.add(a.addr)
        self.backoff.pop(a.addr, None)
        self._spawn(self._dial(a.addr))
        return True

    @handler(msg.RemovePeer)
    def on_remove_peer(self, r: msg.RemovePeer) -> bool:
        self.static.discard(r.who)
        self.known.discard(r.who)
        found = False
        for c in list(self.peers.values()):
            if r.who in (c.id, c.addr, c.dialed_addr):
                c.proto.close("removed by admin")
                self._spawn(self._flush_close(c))
                found = True
        return found

    async def _flush_close(self, c: Conn) -> None:
        await self._flush(c)
        c.abort()

    @handler(msg.PeerInfo)
    def on_peer_info(self, _: msg.PeerInfo) -> list[dict]:
        return [
            {
                "id": c.id,
                "addr": c.addr,
                "inbound": c.inbound,
                "head": c.head,
                "score": self.adm.score(c.node_id, c.ip),
            }
            for c in self.peers.values()
        ]

    @handler(msg.BanInfo)
    def on_ban_info(self, _: msg.BanInfo) -> list[dict]:
        return [
            {"addr": b.addr, "reason": b.reason, "until": b.until}
            for b in self.rep.active(time.time())
        ]
