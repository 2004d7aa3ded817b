"""Judging a run against a saved baseline: how much worse, and how bad that is.

Rules of this module:
1. A case is compared on its primary figure: the ratio to its same-run floor where it has one
   (so a baseline saved on one machine still means something on another, and load that slows
   both sides cancels), else its own median. Lower is better for every figure.
2. change % = (current − baseline) ÷ baseline × 100; positive is a slowdown.
3. Noise is discounted: the change must exceed the two runs' 95 % half-widths (relative, added)
   before it counts. What remains is the effective change.
4. Severity of the effective change: none ≤ 0 < minor < ``major_pct`` (10) ≤ major ≤
   ``critical_pct`` (25) < critical. Major and critical fail (exit 1); minor is reported only.
5. A case that measures the machine rather than the build (``gating`` false: the system
   group, where no code of ours runs) is classified the same way but never fails: a loaded or
   different machine is not a regression.
6. The same ``classify`` serves ``alys-test bench --baseline`` and the run's
   PerformanceRegressionValidator, so one threshold means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..severity import Severity, Thresholds, classify
from .model import BenchRun, CaseResult

__all__ = ["Regression", "Severity", "Thresholds", "classify", "compare", "compare_case"]


@dataclass(frozen=True)
class Regression:
    case: str
    basis: str  # "ratio to <floor> (cpu)" or "value (cpu)"
    baseline: float
    current: float
    change_pct: float
    noise_pct: float
    effective_pct: float
    severity: Severity
    gating: bool = True

    @property
    def fails(self) -> bool:
        return self.gating and self.severity.fails

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def _noise_pct(c: CaseResult) -> float:
    s = c.ratio if c.ratio is not None else c.measurements[c.ours].on(c.basis)
    hw = s.rel_half_width
    return 0.0 if hw != hw or hw == float("inf") else 100.0 * hw


def compare_case(
    current: CaseResult, baseline: CaseResult, thresholds: Thresholds = Thresholds()
) -> Regression:
    use_ratio = current.ratio is not None and baseline.ratio is not None
    old = baseline.primary if use_ratio else baseline.value
    new = current.primary if use_ratio else current.value
    change = (new - old) / old * 100.0 if old > 0 else 0.0
    noise = _noise_pct(current) + _noise_pct(baseline)
    effective = change - noise if change > 0 else change
    basis = (
        f"ratio to {current.floor} ({current.basis})" if use_ratio else f"value ({current.basis})"
    )
    return Regression(
        current.key,
        basis,
        old,
        new,
        change,
        noise,
        effective,
        classify(effective, thresholds),
        current.gating,
    )


def compare(
    current: BenchRun, baseline: BenchRun, thresholds: Thresholds = Thresholds()
) -> list[Regression]:
    """Every case present in both runs, worst first."""
    out = []
    for c in current.cases:
        b = baseline.case(c.key)
        if b is not None:
            out.append(compare_case(c, b, thresholds))
    return sorted(out, key=lambda r: -r.effective_pct)
