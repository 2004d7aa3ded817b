"""Result values shared by harnesses, validators, the framework and reports.

Rules of this module:
- It imports nothing of the framework but ``config`` and ``phases``: reports, replay and the
  run history rebuild everything from JSON or from the event log with these classes alone.
- Only PASSED counts as a pass. UNSUPPORTED (the target lacks a capability the test needs),
  SKIPPED (not run by choice) and ERROR (the test itself broke) are three different things and
  are counted separately; none of them is ever a pass.
- A run summary is computed by one function, ``summarize``, from a RunResult and from an event
  log alike, so the two can be compared.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from .config import TestConfig
from .phases import MigrationPhase


class TestStatus(str, Enum):
    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the test itself broke (exception, timeout, checked nothing)
    NOT_IMPLEMENTED = "not_implemented"
    UNSUPPORTED = "unsupported"  # the target cannot express what the test needs; never a pass

    @property
    def ok(self) -> bool:
        return self is TestStatus.PASSED


@dataclass
class TestResult:
    """One measured verdict of one harness test method."""

    __test__ = False

    name: str
    harness: str
    category: str
    status: TestStatus
    duration_s: float = 0.0
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status is TestStatus.PASSED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestResult:
        return cls(
            name=d["name"],
            harness=d["harness"],
            category=d["category"],
            status=TestStatus(d["status"]),
            duration_s=float(d.get("duration_s", 0.0)),
            message=d.get("message", ""),
            metrics=dict(d.get("metrics", {})),
        )


class Verdict(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to judge (e.g. no baseline stored yet); never counts as passed


@dataclass
class ValidatorVerdict:
    """What one validator decided about one phase, and from which numbers."""

    validator: str
    status: Verdict
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status is Verdict.FAILED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d


@dataclass
class PhaseMetrics:
    """Counts and times of one phase's results (what the result table and report show)."""

    run: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    unsupported: int = 0
    duration_s: float = 0.0
    test_time_s: float = 0.0
    slowest_test: str = ""
    slowest_test_s: float = 0.0

    @classmethod
    def from_results(cls, results: Iterable[TestResult], duration_s: float) -> PhaseMetrics:
        m = cls(duration_s=duration_s)
        for r in results:
            m.run += 1
            m.passed += r.status is TestStatus.PASSED
            m.failed += r.status in (TestStatus.FAILED, TestStatus.NOT_IMPLEMENTED)
            m.errors += r.status is TestStatus.ERROR
            m.skipped += r.status is TestStatus.SKIPPED
            m.unsupported += r.status is TestStatus.UNSUPPORTED
            m.test_time_s += r.duration_s
            if r.duration_s >= m.slowest_test_s:
                m.slowest_test, m.slowest_test_s = r.name, r.duration_s
        return m

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PhaseStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not_implemented"
    SKIPPED = "skipped"  # not run because an earlier phase failed
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self is PhaseStatus.PASSED


@dataclass
class PhaseResult:
    phase: MigrationPhase
    status: PhaseStatus
    results: list[TestResult] = field(default_factory=list)
    verdicts: list[ValidatorVerdict] = field(default_factory=list)
    harnesses: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    message: str = ""
    harness_metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status.ok

    @property
    def metrics(self) -> PhaseMetrics:
        return PhaseMetrics.from_results(self.results, self.duration_s)


@dataclass
class RunResult:
    run_id: str
    seed: int
    config: TestConfig
    phases: list[PhaseResult]
    started_at: float
    finished_at: float
    interrupted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    signal: str = ""  # "SIGINT" / "SIGTERM" when a signal ended the run
    gates: list[ValidatorVerdict] = field(default_factory=list)  # run-wide, e.g. coverage
    coverage: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return (
            not self.interrupted
            and bool(self.phases)
            and all(p.passed for p in self.phases)
            and not any(g.failed for g in self.gates)
        )

    @property
    def results(self) -> list[TestResult]:
        return [r for p in self.phases for r in p.results]

    def summary(self) -> dict[str, Any]:
        return summarize(
            self.run_id,
            {p.phase.value: p.status.value for p in self.phases},
            [r.status.value for r in self.results],
            self.interrupted,
            {g.validator: g.status.value for g in self.gates},
        )


def summarize(
    run_id: str,
    phase_statuses: dict[str, str],
    test_statuses: Iterable[str],
    interrupted: bool,
    gates: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The run summary; computed the same way from a RunResult and from an event log."""
    counts = {s.value: 0 for s in TestStatus}
    total = 0
    for status in test_statuses:
        counts[status] = counts.get(status, 0) + 1
        total += 1
    if interrupted:
        status = "interrupted"
    elif (
        phase_statuses
        and all(s == PhaseStatus.PASSED.value for s in phase_statuses.values())
        and not any(s == Verdict.FAILED.value for s in (gates or {}).values())
    ):
        status = "passed"
    else:
        status = "failed"
    summary = {
        "run_id": run_id,
        "status": status,
        "phases": dict(phase_statuses),
        "tests": {"total": total, **counts},
    }
    if gates:
        summary["gates"] = dict(gates)
    return summary


def new_run_id(seed: int) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-s{seed}-{os.getpid()}"
