"""Sample statistics for benchmarks, computed by pyperf rather than by hand.

Rules of this module:
1. A summary is computed from at least two positive samples; pyperf's Benchmark gives the
   median, mean, standard deviation and percentiles.
2. The 95 % interval is the mean's: mean ± t(0.975, n-1) · stdev / √n (Student's t, exact
   table for small n) — it says how far a rerun's mean may move, which is what a regression
   judgement needs.
3. Outliers are counted by Tukey's fences (beyond 1.5 IQR from the quartiles); they are kept
   in the statistics and reported, never dropped silently.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pyperf  # type: ignore[import-untyped]

# two-sided 95 % Student t quantiles for df = 1..30; beyond that the normal 1.96 is close enough
_T95 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


@dataclass(frozen=True)
class Summary:
    """What a set of samples says; ``values`` are kept so a report can be re-judged later."""

    n: int
    median: float
    mean: float
    stdev: float
    ci95_low: float
    ci95_high: float
    outliers: int
    values: tuple[float, ...]

    @property
    def rel_half_width(self) -> float:
        """Half the 95 % interval relative to the mean (0.05 = ±5 %)."""
        return (self.ci95_high - self.ci95_low) / 2 / self.mean if self.mean else math.inf

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["values"] = list(self.values)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Summary:
        return cls(**{**d, "values": tuple(d.get("values", ()))})


def summarize(values: list[float], name: str = "sample") -> Summary:
    """Summarize positive samples (a zero is nudged up: pyperf refuses non-positive values)."""
    if len(values) < 2:
        raise ValueError(f"{name}: need at least 2 samples to summarize, got {len(values)}")
    vals = [v if v > 0 else 1e-12 for v in values]
    run = pyperf.Run(vals, metadata={"name": name, "loops": 1}, collect_metadata=False)
    bench = pyperf.Benchmark([run])
    n = bench.get_nvalue()
    mean, stdev = bench.mean(), bench.stdev()
    half = t95(n - 1) * stdev / math.sqrt(n)
    q1, q3 = bench.percentile(25), bench.percentile(75)
    iqr = q3 - q1
    outliers = sum(1 for v in vals if v < q1 - 1.5 * iqr or v > q3 + 1.5 * iqr)
    return Summary(
        n=n,
        median=bench.median(),
        mean=mean,
        stdev=stdev,
        ci95_low=mean - half,
        ci95_high=mean + half,
        outliers=outliers,
        values=tuple(values),
    )
