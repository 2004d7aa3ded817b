"""FaultProxy: every P2P link of a cluster passes through an asyncio TCP proxy we control.

Why a proxy and not the node: faults must be injected from outside the system under test, so
that a buggy node cannot "cooperate" with its own test. Link (i -> j) is a listener that node i
dials; it forwards to node j's real P2P port. Faults are set on *directed traffic* x -> y (bytes
sent by node x to node y on either link between them), which is what a partition, a lossy
cable or a corrupting middlebox act on.

TCP semantics are kept where it matters: a "drop" partition stops forwarding (bytes wait, as
a blackholed TCP peer's retransmissions would) instead of silently losing bytes; "close" resets
connections and refuses new ones. ``loss`` models a lost segment as TCP sees it: a
retransmission delay (``loss_rto_ms``), not a gap in the stream. Corruption and duplication do
break the stream on purpose: they are the malformed input a node must survive.

Every fault is an event with a start and an end (``fault_started`` / ``fault_ended``) sent to
the event sink, and kept in ``history`` so a test can correlate measurements with faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ...events import EventSink
from .partitions import Pair, Partition

CHUNK = 64 * 1024


@dataclass
class LinkFaults:
    """Faults on directed traffic; several active faults on one pair are combined."""

    partitioned: bool = False
    partition_mode: Literal["drop", "close"] = "drop"
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    bandwidth_bps: float | None = None  # bytes per second
    loss: float = 0.0  # probability per chunk of a retransmission delay
    loss_rto_ms: float = 200.0
    corrupt: float = 0.0  # probability per chunk of flipping one byte
    duplicate: float = 0.0  # probability per chunk of sending it twice
    # factory of a stateful stream rewriter (``feed(bytes) -> bytes``), bound per connection
    rewriter: Callable[[], Any] | None = None

    def combine(self, other: LinkFaults) -> LinkFaults:
        def por(a: float, b: float) -> float:
            return 1 - (1 - a) * (1 - b)

        bws = [b for b in (self.bandwidth_bps, other.bandwidth_bps) if b is not None]
        closing = any(f.partitioned and f.partition_mode == "close" for f in (self, other))
        return LinkFaults(
            partitioned=self.partitioned or other.partitioned,
            partition_mode="close" if closing else "drop",
            latency_ms=self.latency_ms + other.latency_ms,
            jitter_ms=self.jitter_ms + other.jitter_ms,
            bandwidth_bps=min(bws) if bws else None,
            loss=por(self.loss, other.loss),
            loss_rto_ms=max(self.loss_rto_ms, other.loss_rto_ms),
            corrupt=por(self.corrupt, other.corrupt),
            duplicate=por(self.duplicate, other.duplicate),
            rewriter=self.rewriter or other.rewriter,
        )

    def params(self) -> dict[str, Any]:
        base = LinkFaults()
        if self.rewriter is not None:
            name = getattr(self.rewriter, "__name__", type(self.rewriter).__name__)
            return {**LinkFaults(**{**vars(self), "rewriter": None}).params(), "rewriter": name}
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(base, f.name)
        }


# -- runtime ---------------------------------------------------------------------------------


@dataclass
class FaultRecord:
    fault_id: int
    kind: str
    pairs: list[Pair]
    params: dict[str, Any]
    started_at: float
    ended_at: float | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass
class PairStats:
    bytes: int = 0
    chunks: int = 0
    corrupted: int = 0
    duplicated: int = 0
    delayed_by_loss: int = 0
    connections: int = 0
    refused: int = 0


@dataclass
class ConnRecord:
    """One proxied TCP connection of link (src -> dst), as seen from the middle of the wire:
    when it opened and closed, who ended it (the node whose side sent EOF first; None when the
    proxy aborted it or it is still open) and the bytes each way. Black-box evidence of peer
    sets and bans that needs nothing from the nodes."""

    cid: int
    src: int
    dst: int
    opened_at: float  # monotonic
    closed_at: float | None = None
    closed_by: int | None = None
    aborted_by_proxy: bool = False  # a fault or a crash the proxy enacted, not a node's choice
    bytes_fwd: int = 0  # src -> dst
    bytes_back: int = 0  # dst -> src

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def lifetime(self, now: float) -> float:
        return (self.closed_at if self.closed_at is not None else now) - self.opened_at


@dataclass
class _Link:
    src: int
    dst: int
    target: tuple[str, int]
    server: asyncio.Server | None = None
    port: int = 0
    conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)


class FaultProxy:
    """Owns one listener per directed link and the fault table applied to all their traffic."""

    def __init__(
        self,
        events: EventSink | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        source_host: str | None = None,
        name: str = "fault_proxy",
    ) -> None:
        self.name = name  # event source: tells apart the proxies of successive clusters
        self.events = events
        self.seed = seed
        self.host = host
        self.source_host = source_host
        self.links: dict[Pair, _Link] = {}
        self.history: list[FaultRecord] = []
        self.stats: dict[Pair, PairStats] = {}
        self.rewriters: list[Any] = []  # every rewriter instance, to read what it did
        self.conn_log: list[ConnRecord] = []  # every forwarded connection, in opening order
        self._record_of: dict[tuple[asyncio.StreamWriter, asyncio.StreamWriter], ConnRecord] = {}
        self._active: dict[int, tuple[FaultRecord, LinkFaults]] = {}
        self._effective: dict[Pair, LinkFaults] = {}
        self._ids = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    # -- links ------------------------------------------------------------------------------
    async def add_link(self, src: int, dst: int, target: tuple[str, int]) -> int:
        """Listen for node ``src`` dialing node ``dst``; returns the proxy port to give src."""
        link = self.links.get((src, dst))
        if link is None:
            link = _Link(src, dst, target)
            self.links[(src, dst)] = link
        link.target = target
        if link.server is None:
            link.server = await asyncio.start_server(
                lambda r, w: self._accept(link, r, w), self.host, link.port
            )
            link.port = link.server.sockets[0].getsockname()[1]
        return link.port

    def set_target(self, dst: int, target: tuple[str, int]) -> None:
        """A restarted node may listen on a new port: re-point every link that dials it."""
        for link in self.links.values():
            if link.dst == dst:
                link.target = target

    def reset_node(self, node: int) -> int:
        """Abort every connection to or from ``node``, dropping bytes the proxy still holds.

        A crashed host delivers nothing more; without this the proxy's buffers would keep
        serving a SIGKILLed node's last writes. Returns the number of connections reset.
        """
        n = 0
        for link in self.links.values():
            if node in (link.src, link.dst):
                for conn in list(link.conns):
                    self._mark_aborted(conn)
                    for w in conn:
                        w.transport.abort()
                    link.conns.discard(conn)
                    n += 1
        return n

    def _mark_aborted(self, conn: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        record = self._record_of.get(conn)
        if record is not None:
            record.aborted_by_proxy = True

    def connections(self, a: int, b: int) -> list[ConnRecord]:
        """Every forwarded connection between nodes ``a`` and ``b`` (either link), oldest first."""
        return [r for r in self.conn_log if {r.src, r.dst} == {a, b}]

    def live_peers(self, node: int) -> set[int]:
        """The nodes ``node`` holds an open proxied connection with, right now."""
        return {
            r.dst if r.src == node else r.src
            for r in self.conn_log
            if r.open and node in (r.src, r.dst)
        }

    def address(self, src: int, dst: int) -> str:
        return f"{self.host}:{self.links[(src, dst)].port}"

    def faults_for(self, x: int, y: int) -> LinkFaults:
        return self._effective.get((x, y), LinkFaults())

    def stats_for(self, x: int, y: int) -> PairStats:
        return self.stats.setdefault((x, y), PairStats())

    async def _accept(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        fwd = self.faults_for(link.src, link.dst)
        back = self.faults_for(link.dst, link.src)
        if (fwd.partitioned and fwd.partition_mode == "close") or (
            back.partitioned and back.partition_mode == "close"
        ):
            self.stats_for(link.src, link.dst).refused += 1
            writer.transport.abort()
            return
        try:
            local = (self.source_host, 0) if self.source_host else None
            up_reader, up_writer = await asyncio.open_connection(*link.target, local_addr=local)
        except OSError:
            self.stats_for(link.src, link.dst).refused += 1
            writer.transport.abort()
            return
        self.stats_for(link.src, link.dst).connections += 1
        pair = (writer, up_writer)
        link.conns.add(pair)
        cid = next(self._conn_ids)
        record = ConnRecord(cid, link.src, link.dst, time.monotonic())
        self.conn_log.append(record)
        self._record_of[pair] = record
        t1 = self._spawn(self._pump(reader, up_writer, link.src, link.dst, cid, pair, record))
        t2 = self._spawn(self._pump(up_reader, writer, link.dst, link.src, cid, pair, record))
        try:
            await asyncio.gather(t1, t2, return_exceptions=True)
        finally:
            record.closed_at = time.monotonic()
            self._record_of.pop(pair, None)
            link.conns.discard(pair)
            for w in pair:
                w.transport.abort()

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        x: int,
        y: int,
        cid: int,
        conn: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        record: ConnRecord | None = None,
    ) -> None:
        """Copy x -> y applying the pair's current faults; order is preserved like TCP's."""
        rng = random.Random(f"{self.seed}:{x}:{y}:{cid}")
        stats = self.stats_for(x, y)
        next_free = 0.0  # monotonic time the (bandwidth-limited) wire is free again
        last_due = 0.0
        rewriter: Any = None
        try:
            while True:
                bw = self.faults_for(x, y).bandwidth_bps
                # on a capped link read small chunks so pacing is smooth, not 64 KiB bursts
                data = await reader.read(max(512, min(CHUNK, int(bw / 20))) if bw else CHUNK)
                if not data:
                    if (
                        record is not None
                        and record.closed_by is None
                        and not (record.aborted_by_proxy or record.closed_at is not None)
                    ):
                        record.closed_by = x  # x's side ended the connection first
                    break
                while self.faults_for(x, y).partitioned:  # drop mode: hold bytes, stop reading
                    await self._wait_change()
                f = self.faults_for(x, y)
                if rewriter is None and f.rewriter is not None:
                    rewriter = f.rewriter()
                    self.rewriters.append(rewriter)
                if rewriter is not None:
                    data = rewriter.feed(data)
                    if not data:
                        continue
                now = time.monotonic()
                delay = f.latency_ms / 1000
                if f.jitter_ms:
                    delay = max(0.0, delay + rng.uniform(-f.jitter_ms, f.jitter_ms) / 1000)
                if f.loss and rng.random() < f.loss:
                    delay += f.loss_rto_ms / 1000
                    stats.delayed_by_loss += 1
                sent = now
                if f.bandwidth_bps:  # serialisation on a slow wire, then propagation delay
                    sent = max(now, next_free) + len(data) / f.bandwidth_bps
                    next_free = sent
                due = max(sent + delay, last_due)
                last_due = due
                if f.corrupt and rng.random() < f.corrupt:
                    buf = bytearray(data)
                    i = rng.randrange(len(buf))
                    buf[i] ^= rng.randrange(1, 256)
                    data = bytes(buf)
                    stats.corrupted += 1
                copies = 2 if f.duplicate and rng.random() < f.duplicate else 1
                stats.duplicated += copies - 1
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # the scheduled delivery time of this chunk
                if writer.transport.is_closing():
                    break  # reset while this chunk waited: it is lost with the connection
                for _ in range(copies):
                    writer.write(data)
                await writer.drain()
                stats.bytes += len(data) * copies
                stats.chunks += copies
                if record is not None:
                    if x == record.src:
                        record.bytes_fwd += len(data) * copies
                    else:
                        record.bytes_back += len(data) * copies
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in conn:
                w.transport.abort()

    async def _wait_change(self) -> None:
        ev = self._changed
        await ev.wait()

    def _recompute(self) -> None:
        eff: dict[Pair, LinkFaults] = {}
        for _, (rec, faults) in sorted(self._active.items()):
            for pair in rec.pairs:
                eff[pair] = eff[pair].combine(faults) if pair in eff else faults
        self._effective = eff
        old, self._changed = self._changed, asyncio.Event()
        old.set()  # wake pumps held by a partition that may just have healed

    # -- faults -----------------------------------------------------------------------------
    def apply(self, pairs: Iterable[Pair], kind: str | None = None, **params: Any) -> FaultRecord:
        """Start a fault on directed pairs (x sends to y); ends with ``clear``."""
        faults = LinkFaults(**params)
        plist = sorted(set(pairs))
        rec = FaultRecord(next(self._ids), kind or "faults", plist, faults.params(), time.time())
        self.history.append(rec)
        self._active[rec.fault_id] = (rec, faults)
        self._recompute()
        if faults.partitioned and faults.partition_mode == "close":
            blocked = set(plist)
            for link in self.links.values():
                if (link.src, link.dst) in blocked or (link.dst, link.src) in blocked:
                    for conn in list(link.conns):
                        self._mark_aborted(conn)
                        for w in conn:
                            w.transport.abort()
        self._emit("fault_started", rec)
        return rec

    def symmetric(self, a: int, b: int) -> list[Pair]:
        return [(a, b), (b, a)]

    def partition(self, shape: Partition, mode: Literal["drop", "close"] = "drop") -> FaultRecord:
        rec = self.apply(
            shape.directed_pairs(),
            kind=f"partition:{shape.name}",
            partitioned=True,
            partition_mode=mode,
        )
        rec.params["groups"] = [list(g) for g in shape.groups]
        return rec

    def clear(self, rec: FaultRecord) -> None:
        if self._active.pop(rec.fault_id, None) is None:
            return
        rec.ended_at = time.time()
        self._recompute()
        self._emit("fault_ended", rec)

    def clear_all(self) -> None:
        for rec, _ in list(self._active.values()):
            self.clear(rec)

    @contextlib.asynccontextmanager
    async def fault(self, pairs: Iterable[Pair], kind: str | None = None, **params: Any):  # type: ignore[no-untyped-def]
        rec = self.apply(pairs, kind, **params)
        try:
            yield rec
        finally:
            self.clear(rec)

    def _emit(self, type_: str, rec: FaultRecord) -> None:
        if self.events is None:
            return
        meta: dict[str, Any] = {
            "fault_id": rec.fault_id,
            "kind": rec.kind,
            "pairs": [list(p) for p in rec.pairs],
            "params": rec.params,
            "started_at": rec.started_at,
        }
        if rec.ended_at is not None:
            meta["ended_at"] = rec.ended_at
            meta["duration_s"] = rec.ended_at - rec.started_at
        self.events.emit(type_, self.name, **meta)

    # -- lifecycle --------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop listeners and connections; faults still active are ended (and recorded)."""
        self.clear_all()
        for link in self.links.values():
            if link.server is not None:
                link.server.close()
            for conn in list(link.conns):
                self._mark_aborted(conn)
                for w in conn:
                    w.transport.abort()
        for link in self.links.values():
            if link.server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(link.server.wait_closed(), 2)
                link.server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> FaultProxy:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
