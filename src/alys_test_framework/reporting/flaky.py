"""Flaky tests: a verdict that changes while nothing it depends on did.

Rules:
- two runs are comparable when they ran the same commit with the same configuration (seed
  included: the config hash covers every field);
- a test is flaky when comparable runs gave it different outcomes among passed / failed / error;
  skipped, unsupported and not_implemented are decisions, not outcomes, and never make a test
  flaky;
- the result names each flaky test with the statuses seen and the runs that saw them, so the
  flip can be reproduced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

OUTCOMES = frozenset({"passed", "failed", "error"})


@dataclass(frozen=True)
class Observation:
    """One test's status in one run."""

    run_id: str
    commit: str
    config_hash: str
    harness: str
    name: str
    status: str


@dataclass
class FlakyTest:
    harness: str
    name: str
    commit: str
    config_hash: str
    statuses: dict[str, list[str]] = field(default_factory=dict)  # status -> run ids

    @property
    def test(self) -> str:
        return f"{self.harness}.{self.name}"

    def to_dict(self) -> dict[str, object]:
        return {
            "test": self.test,
            "commit": self.commit,
            "config_hash": self.config_hash,
            "statuses": self.statuses,
        }


def find_flaky(observations: Iterable[Observation]) -> list[FlakyTest]:
    """Every test whose outcome flipped between comparable runs, sorted by name."""
    groups: dict[tuple[str, str, str, str], FlakyTest] = {}
    for o in observations:
        if o.status not in OUTCOMES:
            continue
        key = (o.harness, o.name, o.commit, o.config_hash)
        entry = groups.setdefault(key, FlakyTest(o.harness, o.name, o.commit, o.config_hash))
        entry.statuses.setdefault(o.status, []).append(o.run_id)
    flaky = [f for f in groups.values() if len(f.statuses) > 1]
    return sorted(flaky, key=lambda f: (f.test, f.commit, f.config_hash))
