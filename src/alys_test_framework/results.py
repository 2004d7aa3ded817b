"""Result values shared by harnesses, validators and reports.

They are plain dataclasses so that a report can be rebuilt from JSON (or from the event log)
without importing any harness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class TestStatus(str, Enum):
    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the test itself broke (exception, timeout, checked nothing)
    NOT_IMPLEMENTED = "not_implemented"

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
