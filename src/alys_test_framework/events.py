"""Append-only event log.

Every event is written and flushed as it is emitted so that a crash or Ctrl-C loses nothing
already said; ``alys-test replay`` rebuilds the run summary from this file alone.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class TestEvent:
    __test__ = False

    event_id: int
    timestamp: float
    type: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, separators=(",", ":"))


class EventSink(Protocol):
    """What a harness needs to report events: the framework hands one to each harness."""

    def emit(self, type: str, source: str, **metadata: Any) -> TestEvent: ...


class EventLog:
    """Thread-safe JSONL event log; with ``path=None`` it only keeps events in memory."""

    def __init__(self, path: Path | None = None, keep_in_memory: bool = True) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._keep = keep_in_memory
        self.events: list[TestEvent] = []
        self._listeners: list[Callable[[TestEvent], None]] = []
        self._fh = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "a", encoding="utf-8")

    def emit(self, type: str, source: str, **metadata: Any) -> TestEvent:
        with self._lock:
            event = TestEvent(next(self._ids), time.time(), type, source, metadata)
            if self._keep:
                self.events.append(event)
            if self._fh is not None and not self._fh.closed:
                self._fh.write(event.to_json() + "\n")
                self._fh.flush()
        for listener in self._listeners:
            listener(event)
        return event

    def add_listener(self, listener: Callable[[TestEvent], None]) -> None:
        """Called after each event is durable; used for live progress output."""
        self._listeners.append(listener)

    def of_type(self, type: str) -> list[TestEvent]:
        return [e for e in self.events if e.type == type]

    def close(self) -> None:
        with self._lock:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventLogError(ValueError):
    """A file that is not an alys-test event log (or is damaged before its last line)."""


def read_events(path: Path) -> Iterator[TestEvent]:
    """Yield events from a JSONL log.

    Only a torn *last* line (a crash mid-write) is ignored; anything else that is not an event
    raises EventLogError naming the line, so a wrong file is never read as an empty run.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except UnicodeDecodeError as exc:
        raise EventLogError(f"{path}: not an event log (not UTF-8 text: {exc.reason})") from None
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            if i == last and not lines[i].endswith("\n"):
                return  # torn by a crash while writing
            raise EventLogError(f"{path}:{i + 1}: not an event log (line is not JSON)") from None
        try:
            event = TestEvent(
                int(d["event_id"]),
                float(d["timestamp"]),
                str(d["type"]),
                str(d["source"]),
                dict(d["metadata"]),
            )
        except (KeyError, TypeError, ValueError):
            raise EventLogError(
                f"{path}:{i + 1}: not an event log (expected an object with event_id, "
                "timestamp, type, source, metadata)"
            ) from None
        yield event
