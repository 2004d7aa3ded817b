"""What a benchmark run produces: cases measured beside their floors, and bench.json (v1).

Every figure is stored with its samples, so a baseline from one run can judge another. A case
names the contender it is judged against (its floor or peer, measured in the same run, samples
interleaved), and the ratio is computed per pair of samples: load that slows both sides of a
pair cancels out, which is why verdicts and regressions are decided on ratios.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .stats import Summary

SCHEMA_VERSION = 1

Basis = Literal["cpu", "wall"]


@dataclass
class Measurement:
    """One contender's per-operation samples (seconds per op, or the case's unit)."""

    wall: Summary
    cpu: Summary | None = None

    def on(self, basis: Basis) -> Summary:
        return self.cpu if basis == "cpu" and self.cpu is not None else self.wall

    def to_json(self) -> dict[str, Any]:
        return {"wall": self.wall.to_json(), "cpu": self.cpu.to_json() if self.cpu else None}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Measurement:
        cpu = d.get("cpu")
        return cls(Summary.from_json(d["wall"]), Summary.from_json(cpu) if cpu else None)


@dataclass(frozen=True)
class Target:
    """A performance goal: the ratio (ours ÷ floor, lower is better) or the value at most ``limit``."""

    on: Literal["ratio", "value"]
    limit: float
    text: str

    def met(self, value: float) -> bool:
        return value <= self.limit


@dataclass
class CaseResult:
    group: str
    name: str
    unit: str
    description: str
    measurements: dict[str, Measurement]
    ours: str = "ours"
    floor: str | None = None
    basis: Basis = "cpu"
    ratio: Summary | None = None
    target: Target | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # False for a case that characterizes the machine (system group: no code of ours runs in
    # it): a change is reported with its severity but cannot fail a build
    gating: bool = True

    @property
    def key(self) -> str:
        return f"{self.group}.{self.name}"

    @property
    def value(self) -> float:
        """Our median on the case's basis."""
        return self.measurements[self.ours].on(self.basis).median

    @property
    def primary(self) -> float:
        """What regressions are judged on: the ratio where a floor exists, else the value."""
        return self.ratio.median if self.ratio is not None else self.value

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        v = self.primary if self.target.on == "ratio" else self.value
        return "met" if self.target.met(v) else "missed"

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "unit": self.unit,
            "description": self.description,
            "ours": self.ours,
            "floor": self.floor,
            "basis": self.basis,
            "measurements": {k: m.to_json() for k, m in self.measurements.items()},
            "ratio": self.ratio.to_json() if self.ratio else None,
            "target": None
            if self.target is None
            else {"on": self.target.on, "limit": self.target.limit, "text": self.target.text},
            "verdict": self.verdict,
            "value": self.value,
            "primary": self.primary,
            "extra": self.extra,
            "gating": self.gating,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CaseResult:
        t = d.get("target")
        return cls(
            group=d["group"],
            name=d["name"],
            unit=d["unit"],
            description=d.get("description", ""),
            measurements={k: Measurement.from_json(m) for k, m in d["measurements"].items()},
            ours=d.get("ours", "ours"),
            floor=d.get("floor"),
            basis=d.get("basis", "cpu"),
            ratio=Summary.from_json(d["ratio"]) if d.get("ratio") else None,
            target=Target(t["on"], t["limit"], t["text"]) if t else None,
            extra=d.get("extra", {}),
            gating=d.get("gating", True),
        )


@dataclass
class BenchRun:
    cases: list[CaseResult] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    quick: bool = False
    groups: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)  # label -> file (relative path)
    regressions: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # per group: wall_s, cpu_s (this process and reaped children), cases_s (inside the cases'
    # timed work) and setup_s (the rest: target set-up such as producing the sync chain)
    timing: dict[str, dict[str, float]] = field(default_factory=dict)

    def case(self, key: str) -> CaseResult | None:
        return next((c for c in self.cases if c.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "alys-test-bench",
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "quick": self.quick,
            "groups": self.groups,
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": _cpu_count(),
            },
            "cases": [c.to_json() for c in self.cases],
            "profiles": self.profiles,
            "regressions": self.regressions,
            "errors": self.errors,
            "timing": self.timing,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        tmp.replace(path)


class BenchFileError(ValueError):
    """A baseline or bench.json that cannot be used; the message names the file and why."""


def load_bench(path: Path) -> BenchRun:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BenchFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BenchFileError(f"{path}: not a bench.json file ({e})") from None
    if not isinstance(data, dict) or data.get("kind") != "alys-test-bench":
        raise BenchFileError(f"{path}: not a bench.json file (no 'kind: alys-test-bench')")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise BenchFileError(
            f"{path}: bench schema version {data.get('schema_version')!r}, expected {SCHEMA_VERSION}"
        )
    try:
        cases = [CaseResult.from_json(c) for c in data["cases"]]
    except (KeyError, TypeError) as e:
        raise BenchFileError(f"{path}: malformed case entry ({e!r})") from None
    run = BenchRun(
        cases=cases, started_at=data.get("started_at", 0.0), quick=data.get("quick", False)
    )
    run.groups = list(data.get("groups", []))
    return run


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
