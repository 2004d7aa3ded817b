"""ChaosReport: what a chaos run did and how the cluster took it.

Definitions (also in README):
- availability = acknowledged client operations / all client operations issued during the run
  (block productions on the producer, head queries on followers);
- an event *disrupted* the cluster when an operation failed or a node sampled unhealthy during
  its window; MTTF = injection time / disrupting events (None when nothing was disrupted);
- MTTR = mean recovery time over events: from lifting the fault until every node answers and
  holds at least the producer's head at that moment;
- resilience score = 100 x availability x (events recovered within the bound / events
  injected), and 0 when any checker found a violation: a safety violation is no resilience.
- the run passes when every supported event was injected with its effect measured, recovered
  within the bound, and every checker passed; unsupported events are listed with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..oracles.chain import Violation
from .events import ChaosCategory


@dataclass
class EventResult:
    event: dict[str, Any]
    status: str  # passed | failed | unsupported | error
    detail: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    recovered_at: float | None = None
    recovery_s: float | None = None
    effect: dict[str, Any] = field(default_factory=dict)
    disrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**self.event, "status": self.status, "detail": self.detail,
                "started_at": self.started_at, "ended_at": self.ended_at,
                "recovery_s": self.recovery_s, "effect": self.effect,
                "disrupted": self.disrupted}  # fmt: skip


@dataclass
class ChaosReport:
    seed: int
    schedule: list[str]
    events: list[EventResult]
    phases: list[dict[str, Any]]
    ops_total: int
    ops_ok: int
    injection_s: float
    checkers: dict[str, list[Violation]]
    health_availability: dict[str, float]
    convergence_s: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def availability(self) -> float:
        return self.ops_ok / self.ops_total if self.ops_total else 0.0

    @property
    def injected(self) -> list[EventResult]:
        return [e for e in self.events if e.status != "unsupported"]

    @property
    def mttr_s(self) -> float | None:
        xs = [e.recovery_s for e in self.events if e.recovery_s is not None]
        return sum(xs) / len(xs) if xs else None

    @property
    def mttf_s(self) -> float | None:
        n = sum(e.disrupted for e in self.events)
        return self.injection_s / n if n else None

    @property
    def violations(self) -> list[tuple[str, Violation]]:
        return [(name, v) for name, vs in self.checkers.items() for v in vs]

    @property
    def resilience_score(self) -> float:
        inj = self.injected
        if not inj or self.violations:
            return 0.0
        recovered = sum(e.status == "passed" for e in inj) / len(inj)
        return round(100 * self.availability * recovered, 1)

    @property
    def passed(self) -> bool:
        return (not self.errors and not self.violations
                and all(e.status in ("passed", "unsupported") for e in self.events))  # fmt: skip

    def failures(self) -> list[str]:
        out = [f"{e.event['type']} on {','.join(e.event['targets'])}: {e.status}: {e.detail}"
               for e in self.events if e.status in ("failed", "error")]  # fmt: skip
        for name, v in self.violations:
            near = [e.event["type"] for e in self.events
                    if v.node is None or v.node in e.event["targets"]]  # fmt: skip
            out.append(f"checker {name}: {v} (events on that node: {', '.join(near) or 'none'})")
        return out + self.errors

    def per_category(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {c.value: {} for c in ChaosCategory}
        for e in self.events:
            d = out[e.event["category"]]
            d[e.status] = d.get(e.status, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "passed": self.passed, "schedule": self.schedule,
            "phases": self.phases,
            "timeline": [e.to_json() for e in self.events],
            "per_category": self.per_category(),
            "availability": round(self.availability, 4), "ops_total": self.ops_total,
            "ops_ok": self.ops_ok,
            "mttf_s": _r(self.mttf_s), "mttr_s": _r(self.mttr_s),
            "resilience_score": self.resilience_score,
            "convergence_s": _r(self.convergence_s),
            "health_availability": self.health_availability,
            "checkers": {k: [str(v) for v in vs] for k, vs in self.checkers.items()},
            "failed_checkers": [
                {"checker": name, "rule": v.rule, "node": v.node, "height": v.height,
                 "detail": str(v),
                 "events_on_node": [e.event["id"] for e in self.events
                                    if v.node is None or v.node in e.event["targets"]]}
                for name, v in self.violations
            ],
            "unsupported": {e.event["type"]: e.detail for e in self.events
                            if e.status == "unsupported"},
            "failures": self.failures(), "errors": self.errors,
        }  # fmt: skip

    def plot_metrics(self, t0: float) -> dict[str, Any]:
        """The report plots' conventions: ``faults`` windows and ``history`` operations."""
        return {"faults": [{"name": e.event["type"], "start": round(e.started_at - t0, 3),
                            "end": round((e.ended_at or e.started_at) - t0, 3)}
                           for e in self.events if e.started_at is not None]}  # fmt: skip

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, default=str))
        return path


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
