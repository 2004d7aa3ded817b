"""The event log reader: a torn last line is a crash, anything else wrong is a wrong file."""

from __future__ import annotations

import pytest

from alys_test_framework.events import EventLog, EventLogError, read_events
from alys_test_framework.reporting import replay_summary


def write_log(path):
    with EventLog(path) as log:
        log.emit("run_started", "framework", run_id="r1")
        log.emit("test_finished", "h", test="t", status="unsupported")
        log.emit("phase_finished", "framework", phase="foundation", status="failed")


def test_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "events.jsonl"
    write_log(path)
    with open(path, "a") as fh:
        fh.write('{"event_id": 4, "timest')  # the crash happened mid-write
    assert len(list(read_events(path))) == 3
    assert replay_summary(path)["tests"]["unsupported"] == 1


def test_garbage_before_the_end_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "events.jsonl"
    write_log(path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "not json", *lines[1:]]) + "\n")
    with pytest.raises(EventLogError, match=r"events\.jsonl:2: not an event log"):
        list(read_events(path))


def test_json_that_is_not_an_event_is_an_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(EventLogError, match="expected an object with event_id"):
        list(read_events(path))


def test_a_log_without_run_started_is_not_a_run(tmp_path):
    path = tmp_path / "x.jsonl"
    with EventLog(path) as log:
        log.emit("something", "else")
    with pytest.raises(EventLogError, match="no run_started event"):
        replay_summary(path)
