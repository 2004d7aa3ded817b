"""Benchmarks of the targets, each figure measured beside a floor or peer in the same run.

``alys-test bench`` (see runner.py) runs the groups, ``regression.py`` judges a run against a
saved baseline, ``profile.py`` records flamegraphs and memory profiles.
"""

from __future__ import annotations

from .model import SCHEMA_VERSION, BenchFileError, BenchRun, CaseResult, load_bench
from .regression import Severity, Thresholds, classify, compare
from .runner import BenchOptions, run_bench

__all__ = [
    "SCHEMA_VERSION",
    "BenchFileError",
    "BenchOptions",
    "BenchRun",
    "CaseResult",
    "Severity",
    "Thresholds",
    "classify",
    "compare",
    "load_bench",
    "run_bench",
]
