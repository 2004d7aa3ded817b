"""How bad a performance regression is: one scale for ``alys-test bench`` and the run's
PerformanceRegressionValidator, so one threshold means one thing everywhere.

Rules: severity of a change (percent worse; noise already discounted by the caller):
none ≤ 0 < minor < ``major_pct`` (10) ≤ major ≤ ``critical_pct`` (25) < critical.
Major and critical fail; minor is reported only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def fails(self) -> bool:
        return self in (Severity.MAJOR, Severity.CRITICAL)


@dataclass(frozen=True)
class Thresholds:
    major_pct: float = 10.0
    critical_pct: float = 25.0

    def __post_init__(self) -> None:
        if not 0 < self.major_pct <= self.critical_pct:
            raise ValueError(
                f"regression thresholds need 0 < major ({self.major_pct}) <= critical "
                f"({self.critical_pct})"
            )


def classify(effective_change_pct: float, thresholds: Thresholds = Thresholds()) -> Severity:
    if effective_change_pct <= 0:
        return Severity.NONE
    if effective_change_pct < thresholds.major_pct:
        return Severity.MINOR
    if effective_change_pct <= thresholds.critical_pct:
        return Severity.MAJOR
    return Severity.CRITICAL
