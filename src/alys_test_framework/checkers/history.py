"""The per-node history of a cluster test: what each node was seen to do, one JSON event a line.

Rules of this model (Jepsen's: record first, judge after the fact):
1. An event is ``{"t": epoch seconds, "kind": ..., "node": name or null, ...}``; events are
   appended in observation order and never rewritten, so ``history.jsonl`` can be read while a
   run is still going and a crash loses nothing already written.
2. Kinds: ``block`` (a node's chain shows ``hash`` at ``height``: parent, slot, producer,
   received_at, ``data``: the content id of the copy it holds), ``block_data`` (a block's full
   RPC object, once per distinct content ``id``, for the oracle; older histories key it by
   hash only),
   ``head``, ``reorg`` (a block at or below the old head changed: ancestor, old/new head,
   dropped blocks), ``checkpoints``, ``peers``, ``bans``, ``metrics`` (each on change),
   ``process`` (start / kill / stop / pause / resume / restart), ``fault`` (apply / clear),
   ``op`` (a client operation and its acknowledgement), ``unreachable`` / ``reachable``,
   ``byzantine`` (an adversarial case sent: its id, rule, sender and bad hashes).
3. A checker only reads a ``History``; nothing here talks to a node.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..oracles.chain import OBlock
from ..oracles.chain.encoding import EncodingError

Event = dict[str, Any]


class HistoryWriter:
    """Thread-safe append-and-flush JSONL writer (also keeps the events in memory)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self._fh = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(
        self, kind: str, node: str | None = None, t: float | None = None, **data: Any
    ) -> Event:
        ev: Event = {"t": time.time() if t is None else t, "kind": kind, "node": node, **data}
        with self._lock:
            self.events.append(ev)
            if self._fh is not None and not self._fh.closed:
                self._fh.write(json.dumps(ev, separators=(",", ":"), default=str) + "\n")
                self._fh.flush()
        return ev

    def close(self) -> None:
        with self._lock:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()


def read_history(path: str | os.PathLike[str]) -> History:
    """Load ``history.jsonl``; a torn last line (crash mid-write) is ignored."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    events = []
    for i, line in enumerate(lines):
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if i != len(lines) - 1:
                raise ValueError(f"{path}:{i + 1} is not a history event") from None
    return History(events)


@dataclass
class NodeState:
    """A node's chain as replayed from its events up to some moment."""

    chain: dict[int, str] = field(default_factory=dict)  # height -> hash
    head: int = -1
    head_hash: str = ""


@dataclass
class History:
    events: list[Event]

    def __post_init__(self) -> None:
        self.events = sorted(self.events, key=lambda e: e.get("t", 0.0))
        self._data: dict[str, dict[str, Any]] = {}
        self._parents: dict[str, tuple[int, str]] = {}
        self._held: dict[tuple[str, str], str] = {}  # (node, hash) -> content id last held
        for e in self.events:
            if e["kind"] == "block_data":
                self._data[e.get("id") or e["hash"]] = e["block"]
                self._data.setdefault(e["hash"], e["block"])  # first copy seen, by hash
            elif e["kind"] == "block":
                self._parents[e["hash"]] = (int(e["height"]), e.get("parent", ""))
                if e.get("node") and e.get("data"):
                    self._held[(e["node"], e["hash"])] = e["data"]

    @classmethod
    def of(cls, events: Iterable[Event]) -> History:
        return cls(list(events))

    def kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e["kind"] in kinds]

    def nodes(self) -> list[str]:
        return sorted({e["node"] for e in self.events if e.get("node")})

    def of_node(self, node: str, *kinds: str) -> list[Event]:
        return [
            e for e in self.events if e.get("node") == node and (not kinds or e["kind"] in kinds)
        ]

    def block(self, h: str, node: str | None = None) -> OBlock | None:
        """The oracle's view of a recorded block (None if its data was not recorded): the copy
        ``node`` held when given (a forged copy may share the honest header hash), else the
        first copy seen."""
        d = self._data.get(self._held.get((node, h), h)) if node else None
        d = d if d is not None else self._data.get(h)
        if d is None:
            return None
        try:
            return OBlock.from_json(d)
        except EncodingError:
            return None

    def parent_of(self, h: str) -> tuple[int, str] | None:
        """(height, parent hash) of a block some node held."""
        return self._parents.get(h)

    def replay(self, node: str) -> Iterator[tuple[Event, NodeState]]:
        """The node's chain after each of its chain events (``block``/``head``/``reorg``).
        The state object is updated in place: read it during iteration, do not keep it."""
        return self.replay_with(node)

    def replay_with(self, node: str, *extra: str) -> Iterator[tuple[Event, NodeState]]:
        """``replay``, also yielding the node's events of the ``extra`` kinds in order."""
        st = NodeState()
        for e in self.of_node(node, "block", "head", "reorg", *extra):
            if e["kind"] == "block":
                st.chain[int(e["height"])] = e["hash"]
            elif e["kind"] == "head":
                st.head, st.head_hash = int(e["height"]), e["hash"]
                for h in [h for h in st.chain if h > st.head]:
                    del st.chain[h]
                st.chain[st.head] = st.head_hash
            yield e, st

    def final_state(self, node: str) -> NodeState:
        last = NodeState()
        for _, st in self.replay(node):
            last = st
        return last

    def process_windows(self, node: str) -> list[tuple[float, float | None]]:
        """(start, end) of each run of the node's process, from ``process`` events."""
        out: list[tuple[float, float | None]] = []
        start: float | None = None
        for e in self.of_node(node, "process"):
            a = e.get("action")
            if a in ("start", "restart"):
                if start is not None:
                    out.append((start, e["t"]))
                start = e["t"]
            elif a in ("kill", "stop") and start is not None:
                out.append((start, e["t"]))
                start = None
        if start is not None:
            out.append((start, None))
        return out

    def live_at_end(self) -> list[str]:
        live = []
        for n in self.nodes():
            acts = [e.get("action") for e in self.of_node(n, "process")]
            if not acts or acts[-1] not in ("kill", "stop", "pause"):
                live.append(n)
        return live
