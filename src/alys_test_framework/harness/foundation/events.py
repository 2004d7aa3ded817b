"""Category events: the log is durable as it is written and replays to the run summary."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ...events import read_events
from ...reporting.replay import replay_summary
from ...results import summarize
from ..base import Outcome, harness_test
from .kit import FoundationBase


class EventChecks(FoundationBase):
    @harness_test("events")
    async def test_event_log_replay(self, out: Outcome) -> None:
        path = Path(tempfile.mkdtemp(dir=self.ctx.workdir)) / "events.jsonl"
        log = self.event_log_factory(path)
        statuses = ["passed", "failed", "passed", "skipped"]
        log.emit("run_started", "foundation", run_id="selfcheck")
        for i, status in enumerate(statuses):
            log.emit("test_finished", "foundation", test=f"t{i}", status=status)
        log.emit("phase_finished", "foundation", phase="foundation", status="failed")
        # read while the log is still open: events must be on disk as soon as they are emitted
        on_disk = list(read_events(path))
        out.expect(
            len(on_disk) == len(statuses) + 2,
            "events are flushed as they are emitted",
            f"{len(on_disk)} of {len(statuses) + 2} events on disk before close",
        )
        ids = [e.event_id for e in on_disk]
        out.expect(ids == sorted(set(ids)), "event ids are unique and increasing", str(ids))
        log.close()
        expected = summarize("selfcheck", {"foundation": "failed"}, statuses, False)
        replayed = replay_summary(path)
        out.expect(replayed == expected, "replay rebuilds the summary", f"{replayed} != {expected}")
        out.record(events=len(on_disk))
