"""HistoryRecorder: writes what every node of a cluster test was seen to do to ``history.jsonl``.

Why a recorder and not assertions in the scenario: a scenario checks what it set out to check;
the checkers (``alys_test_framework.checkers``) then judge the whole history — every block each
node held, every head change, checkpoint list, peer list, ban, fault and acknowledged client
operation — against the chain rules, after the fact (Jepsen's model).

Rules of this adapter:
1. It sees nodes only through their JSON-RPC (docs/NODE_API.md) and ``GET /metrics``; node
   handles are any objects with ``name`` and ``rpc_port`` (read at every poll, so a restarted
   node on a new port is followed). ``nodes`` may be a live list: nodes added later are picked
   up.
2. Heads are polled every ``poll_s`` (20 ms by default); a changed head fetches the new blocks
   with JSON-RPC batches, finds the common ancestor when a block at or below the old head
   changed (a ``reorg`` event), and records every distinct block once as ``block_data``, keyed
   by its content (``data``: hash + digest of every field but ``received_at``), not its hash
   alone: a forged copy that keeps the honest header hash (a signature or body the hash does
   not cover) is a different block, and each node's ``block`` event names the copy it holds.
   Peers, bans,
   checkpoints and metrics are polled every ``slow_poll_s`` and written on change.
3. It records only what it observed; a node that does not answer is ``unreachable`` until it
   answers again. Faults, process actions and client operations come from the caller
   (``fault``/``process``/``produce``) or from the framework's event log (``listen``).
4. ``async with`` starts it; leaving takes one last full observation of every reachable node,
   so the checkers judge the final state, then closes the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from ...checkers.history import History, HistoryWriter
from .profiles import parse_metrics

FINAL_TRIES = 5  # last observation: re-read a node still moving until chain and list agree
BATCH = 100  # the node refuses JSON-RPC batches of more than 100 calls (docs/NODE_API.md)
METRICS = ("alys_peers", "alys_peer_bans_total", "alys_head_height", "alys_blocks_imported_total")
PROCESS_EVENTS = {
    "node_started": "start",
    "node_killed": "kill",
    "node_stopped": "stop",
    "node_paused": "pause",
    "node_resumed": "resume",
}


class NodeLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rpc_port(self) -> int: ...


class _Unavailable(Exception):
    pass


@dataclass
class _NodeView:
    chain: dict[int, str] = field(default_factory=dict)
    data: dict[int, str] = field(default_factory=dict)  # height -> content id of the copy held
    head: tuple[int, str] = (-1, "")
    reachable: bool = True
    last_slow: float = 0.0
    cp_head: int = -2
    checkpoints: Any = None
    peers: Any = None
    bans: Any = None
    metrics: Any = None
    paused: bool = False


class HistoryRecorder:
    def __init__(
        self,
        nodes: Sequence[NodeLike] | Callable[[], Sequence[NodeLike]],
        path: str | Path | None = None,
        *,
        poll_s: float = 0.02,
        slow_poll_s: float = 0.25,
        rpc_timeout_s: float = 5.0,
        host: str = "127.0.0.1",
    ) -> None:
        self._nodes = nodes
        self.writer = HistoryWriter(path)
        self.path = self.writer.path
        self.poll_s = poll_s
        self.slow_poll_s = slow_poll_s
        self.rpc_timeout_s = rpc_timeout_s
        self.host = host
        self._views: dict[str, _NodeView] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._known_data: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._supervisor: asyncio.Task[None] | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self.polls = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> HistoryRecorder:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        """Final observation of every node that answers, then close everything."""
        tasks = [t for t in [self._supervisor, *self._tasks.values()] if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        try:
            for n in self._current():
                view = self._views.setdefault(n.name, _NodeView())
                if view.paused:
                    continue
                with contextlib.suppress(_Unavailable, asyncio.TimeoutError, aiohttp.ClientError):
                    await asyncio.wait_for(self._observe(n, view, final=True), 120)
        finally:
            if self._session is not None:
                await self._session.close()
            self.writer.close()

    def history(self) -> History:
        return History(list(self.writer.events))

    # -- what the caller records -----------------------------------------------------------
    def process(self, node: str, action: str, **data: Any) -> None:
        """start / restart / kill / stop / pause / resume of a node process."""
        view = self._views.setdefault(node, _NodeView())
        view.paused = action in ("pause", "kill", "stop")
        self.writer.write("process", node, action=action, **data)

    def fault(self, action: str, fault: str, **params: Any) -> None:
        """``apply`` or ``clear`` of a fault (partition, latency, byzantine peer...)."""
        self.writer.write("fault", None, action=action, fault=fault, **params)

    def byzantine(self, case: str, rule: str, sender: str, bad_hashes: Sequence[str]) -> None:
        self.writer.write("byzantine", None, case=case, rule=rule, sender=sender,
                          bad_hashes=list(bad_hashes))  # fmt: skip

    def op(self, node: str, op: str, ok: bool, t_invoke: float, **data: Any) -> None:
        self.writer.write("op", node, op=op, ok=ok, t_invoke=t_invoke, **data)

    async def produce(self, node: NodeLike, n: int, timeout_s: float = 120.0) -> dict[str, Any]:
        """``dev_produceBlocks(n)`` recorded as a client operation with its acknowledgement."""
        t0 = time.time()
        try:
            res = await self._call(node, "dev_produceBlocks", [n], timeout_s=timeout_s)
        except Exception as e:
            self.op(node.name, "produce", False, t0, n=n, error=f"{type(e).__name__}: {e}")
            raise
        self.op(node.name, "produce", True, t0, n=n, height=res["height"], hash=res["hash"])
        # observe at once: the acknowledged blocks enter the history before anything (a heal, a
        # reorg) can replace them unseen between two polls
        view = self._views.setdefault(node.name, _NodeView())
        with contextlib.suppress(_Unavailable, asyncio.TimeoutError, aiohttp.ClientError):
            await self._observe(node, view)
        return dict(res)

    def listen(self, events: Any) -> None:
        """Record process and fault events of the framework's EventLog (``add_listener``)."""
        events.add_listener(self.on_event)

    def tap(self, sink: Any | None) -> _Tap:
        """An EventSink to hand a NodeCluster instead of ``sink``: forwards every event to it
        (if any) and records the process and fault events here."""
        return _Tap(self, sink)

    def on_event(self, ev: Any) -> None:
        meta = getattr(ev, "metadata", {}) or {}
        t = getattr(ev, "timestamp", None)
        if ev.type in PROCESS_EVENTS and meta.get("node"):
            action = PROCESS_EVENTS[ev.type]
            if action == "start" and int(meta.get("starts", 1) or 1) > 1:
                action = "restart"
            view = self._views.setdefault(meta["node"], _NodeView())
            view.paused = action in ("pause", "kill", "stop")
            self.writer.write("process", meta["node"], t=t, action=action, pid=meta.get("pid"))
        elif ev.type in ("fault_started", "fault_ended"):
            self.writer.write(
                "fault", None, t=t, action="apply" if ev.type == "fault_started" else "clear",
                fault=meta.get("kind"), fault_id=meta.get("fault_id"), pairs=meta.get("pairs"),
                params=meta.get("params"),
            )  # fmt: skip

    # -- polling ---------------------------------------------------------------------------
    def _current(self) -> list[NodeLike]:
        nodes = self._nodes() if callable(self._nodes) else self._nodes
        return list(nodes)

    async def _supervise(self) -> None:
        while True:
            for n in self._current():
                if n.name not in self._tasks:
                    self._tasks[n.name] = asyncio.create_task(self._follow(n))
            await asyncio.sleep(self.poll_s * 5)

    async def _follow(self, node: NodeLike) -> None:
        view = self._views.setdefault(node.name, _NodeView())
        while True:
            if not view.paused:
                try:
                    await self._observe(node, view)
                    if not view.reachable:
                        view.reachable = True
                        self.writer.write("reachable", node.name)
                except (TimeoutError, _Unavailable, aiohttp.ClientError) as e:
                    if view.reachable:
                        view.reachable = False
                        self.writer.write("unreachable", node.name, error=str(e)[:200])
            await asyncio.sleep(self.poll_s)

    async def _observe(self, node: NodeLike, view: _NodeView, final: bool = False) -> None:
        lock = self._locks.setdefault(node.name, asyncio.Lock())
        async with lock:
            self.polls += 1
            t_sent = time.time()  # the observed state is at least this recent
            head = await self._call(node, "chain_head", [])
            h, x = int(head["height"]), str(head["hash"])
            if (h, x) != view.head:
                await self._sync_chain(node, view, h, t_sent)
            now = time.monotonic()
            if final or now - view.last_slow >= self.slow_poll_s:
                view.last_slow = now
                after = await self._slow(node, view, final)
                for _ in range(FINAL_TRIES if final else 0):
                    if after is None or after == view.head[0]:
                        break  # the final chain and checkpoint list describe one state
                    head = await self._call(node, "chain_head", [])
                    await self._sync_chain(node, view, int(head["height"]), time.time())
                    after = await self._slow(node, view, final)

    async def _sync_chain(self, node: NodeLike, view: _NodeView, target: int, t: float) -> None:
        """Chain events carry ``t`` = when the head request was sent: a reply describes a state
        no older than that, so a read sent after an acknowledgement must reflect it (D1)."""
        old_h, old_x = view.head
        for _attempt in range(3):
            anc = await self._ancestor(node, view, min(target, old_h))
            fetched = await self._blocks(node, anc + 1, target)
            if not fetched:
                if 0 <= target < old_h and anc == target:
                    # the head fell back onto a prefix of the recorded chain (blocks lost, e.g.
                    # after a SIGKILL): nothing new to fetch, but the drop itself is the event
                    # the durability checker judges (D1, D2)
                    for k in [k for k in view.chain if k > target]:
                        del view.chain[k]
                        view.data.pop(k, None)
                    view.head = (target, view.chain[target])
                    self.writer.write("head", node.name, t=t, height=target, hash=view.head[1])
                return
            if _linked(fetched, view.chain.get(anc)):
                break
        else:
            return  # the node keeps moving under us; the next poll tries again
        tip = fetched[-1]
        if old_h >= 0 and anc < old_h:
            dropped = [{"height": k, "hash": view.chain[k]} for k in range(anc + 1, old_h + 1)
                       if k in view.chain]  # fmt: skip
            self.writer.write("reorg", node.name, t=t, ancestor=anc, old_height=old_h, old_hash=old_x,
                              new_height=int(tip["height"]), new_hash=tip["hash"],
                              dropped=dropped)  # fmt: skip
        for b in fetched:
            hx = b["hash"]
            did = data_id(b)
            if did not in self._known_data:
                self._known_data.add(did)
                self.writer.write("block_data", None, t=t, hash=hx, id=did, block=b)
            k = int(b["height"])
            if view.chain.get(k) != hx or view.data.get(k) != did:
                self.writer.write(
                    "block", node.name, t=t, height=b["height"], hash=hx, parent=b["parent_hash"],
                    producer=b["producer"], timestamp=b["timestamp"],
                    received_at=b.get("received_at"), data=did,
                )  # fmt: skip
            view.chain[k] = hx
            view.data[k] = did
        for k in [k for k in view.chain if k > int(tip["height"])]:
            del view.chain[k]
            view.data.pop(k, None)
        view.head = (int(tip["height"]), tip["hash"])
        self.writer.write("head", node.name, t=t, height=view.head[0], hash=view.head[1])

    async def _ancestor(self, node: NodeLike, view: _NodeView, top: int) -> int:
        """Highest height <= top where the node still holds the block we recorded."""
        k = top
        while k >= 0:
            lo = max(0, k - BATCH + 1)
            got = await self._blocks(node, lo, k)
            by_h = {int(b["height"]): b["hash"] for b in got}
            for j in range(k, lo - 1, -1):
                if view.chain.get(j) is not None and by_h.get(j) == view.chain[j]:
                    return j
            k = lo - 1
        return -1

    async def _blocks(self, node: NodeLike, lo: int, hi: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(lo, hi + 1, BATCH):
            heights = list(range(start, min(hi, start + BATCH - 1) + 1))
            res = await self._batch(node, [("chain_getBlockByHeight", [k]) for k in heights])
            for r in res:
                if r is None:
                    return out  # the node's head went down under us
                out.append(r)
        return out

    async def _slow(self, node: NodeLike, view: _NodeView, final: bool) -> int | None:
        """Peers, bans, checkpoints and metrics; returns the head read after the checkpoint
        list (None when the list was not read)."""
        peers, bans = await self._batch(node, [("admin_peers", []), ("admin_bans", [])])
        peers_key = sorted((p.get("id"), p.get("addr")) for p in peers or [])
        if peers_key != view.peers:
            view.peers = peers_key
            self.writer.write("peers", node.name, peers=[
                {"id": p.get("id"), "addr": p.get("addr"), "inbound": p.get("inbound")}
                for p in peers or []])  # fmt: skip
        bans_key = sorted((b.get("addr"), b.get("until")) for b in bans or [])
        if bans_key != view.bans:
            view.bans = bans_key
            self.writer.write("bans", node.name, bans=list(bans or []))
        if final or view.head[0] != view.cp_head:
            view.cp_head = view.head[0]
            # the head is read again right after the list, in the same batch: a checkpoint
            # above ``head`` but at or below ``head_after`` was made while we read, not wrongly
            cps, after = await self._batch(node, [("chain_getCheckpoints", []), ("chain_head", [])])
            head_after = int(after["height"]) if isinstance(after, dict) else None
            if cps is not None and (cps != view.checkpoints or final):
                view.checkpoints = cps
                self.writer.write("checkpoints", node.name, checkpoints=cps, head=view.head[0],
                                  head_after=head_after)  # fmt: skip
            return head_after
        return None
        values = await self._metrics(node)
        if values is not None and values != view.metrics:
            view.metrics = values
            self.writer.write("metrics", node.name, values=values)

    # -- transport -------------------------------------------------------------------------
    def _url(self, node: NodeLike) -> str:
        return f"http://{self.host}:{node.rpc_port}/"

    async def _post(self, node: NodeLike, body: Any, timeout_s: float | None) -> Any:
        if self._session is None or not node.rpc_port:
            raise _Unavailable(f"{node.name}: not running")
        limit = aiohttp.ClientTimeout(total=timeout_s or self.rpc_timeout_s)
        try:
            async with self._session.post(self._url(node), json=body, timeout=limit) as resp:
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, ValueError) as e:
            raise _Unavailable(f"{node.name}: {type(e).__name__} {e}") from None

    async def _call(
        self, node: NodeLike, method: str, params: list[Any], timeout_s: float | None = None
    ) -> Any:
        (res,) = await self._batch(node, [(method, params)], timeout_s, strict=True)
        return res

    async def _batch(
        self,
        node: NodeLike,
        calls: Sequence[tuple[str, list[Any]]],
        timeout_s: float | None = None,
        strict: bool = False,
    ) -> list[Any]:
        """One JSON-RPC batch; results in call order (None for an error unless ``strict``)."""
        ids = [next(self._ids) for _ in calls]
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                for i, (m, p) in zip(ids, calls, strict=True)]  # fmt: skip
        data = await self._post(node, body, timeout_s)
        by_id = {r.get("id"): r for r in data} if isinstance(data, list) else {}
        out: list[Any] = []
        for i, (m, _) in zip(ids, calls, strict=True):
            r = by_id.get(i, {})
            if "error" in r or "result" not in r:
                if strict:
                    raise _Unavailable(f"{node.name}: {m} -> {r.get('error', 'no answer')}")
                out.append(None)
            else:
                out.append(r["result"])
        return out

    async def _metrics(self, node: NodeLike) -> dict[str, float] | None:
        if self._session is None:
            return None
        url = f"http://{self.host}:{node.rpc_port}/metrics"
        limit = aiohttp.ClientTimeout(total=self.rpc_timeout_s)
        try:
            async with self._session.get(url, timeout=limit) as resp:
                text = await resp.text()
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None
        parsed = parse_metrics(text)
        return {k: parsed[k] for k in METRICS if k in parsed}


@dataclass
class _Tap:
    recorder: HistoryRecorder
    sink: Any | None

    def emit(self, type: str, source: str, **metadata: Any) -> Any:
        ev = self.sink.emit(type, source, **metadata) if self.sink is not None else None
        self.recorder.on_event(ev if ev is not None else _Event(type, metadata, time.time()))
        return ev


@dataclass
class _Event:
    type: str
    metadata: dict[str, Any]
    timestamp: float


def data_id(block: dict[str, Any]) -> str:
    """Content id of a block as served: its hash plus a digest of every other field but the
    node-local ``received_at`` (two copies with one header hash may differ in signature or
    body, which the header hash does not cover)."""
    body = {k: v for k, v in block.items() if k != "received_at"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"{block['hash']}#{digest[:16]}"


def _linked(blocks: Sequence[dict[str, Any]], anchor: str | None) -> bool:
    """The fetched blocks form one chain on the anchor (no reorg happened mid-fetch)."""
    prev = anchor
    for b in blocks:
        if prev is not None and b["parent_hash"] != prev:
            return False
        prev = b["hash"]
    return True
