"""Rebuild a run's summary from events.jsonl alone (``alys-test replay``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..events import read_events


def replay_summary(path: Path) -> dict[str, Any]:
    from ..framework import summarize

    run_id = ""
    phases: dict[str, str] = {}
    tests: list[str] = []
    interrupted = False
    for event in read_events(path):
        md = event.metadata
        if event.type == "run_started":
            run_id = md.get("run_id", "")
        elif event.type == "test_finished":
            tests.append(md["status"])
        elif event.type == "phase_finished":
            phases[md["phase"]] = md["status"]
        elif event.type == "run_interrupted":
            interrupted = True
    return summarize(run_id, phases, tests, interrupted)
