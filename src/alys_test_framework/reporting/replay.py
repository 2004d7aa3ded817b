"""Rebuild a run's summary from events.jsonl alone (``alys-test replay``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..events import EventLogError, read_events
from ..results import summarize


def replay_summary(path: Path) -> dict[str, Any]:
    """The summary ``summarize`` gives for the run the log records.

    A file without a ``run_started`` event is not a run's log: EventLogError, never an empty
    summary that looks like a run with nothing in it.
    """
    run_id: str | None = None
    phases: dict[str, str] = {}
    tests: list[str] = []
    interrupted = False
    gates: dict[str, str] = {}
    for event in read_events(path):
        md = event.metadata
        if event.type == "run_started":
            run_id = str(md.get("run_id", ""))
        elif event.type == "test_finished" and "status" in md:
            tests.append(md["status"])
        elif event.type == "phase_finished" and "phase" in md:
            phases[md["phase"]] = md["status"]
        elif event.type == "run_interrupted":
            interrupted = True
        elif event.type == "run_gate" and "validator" in md:
            gates[md["validator"]] = md["status"]
    if run_id is None:
        raise EventLogError(f"{path}: not a run's event log (no run_started event)")
    return summarize(run_id, phases, tests, interrupted, gates)
