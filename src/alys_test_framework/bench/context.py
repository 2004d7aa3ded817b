"""What a group gets from the bench runner: sizes, sample counts, progress, a work dir."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .model import Basis, CaseResult, Target
from .sampler import Contender, paired_ratio, sample


def _stderr(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


@dataclass
class BenchContext:
    quick: bool = False
    workdir: Path = field(default_factory=lambda: Path("."))
    progress: Callable[[str], None] = _stderr
    samples_override: int | None = None  # tests shrink every case to a few samples
    min_sample_s: float = 0.05  # shortest sample, after loop calibration

    def samples(self, full: int = 10, quick: int = 10) -> int:
        n = quick if self.quick else full
        return max(2, self.samples_override) if self.samples_override else n

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    async def case(
        self,
        group: str,
        name: str,
        description: str,
        contenders: list[Contender],
        *,
        floor: str | None = None,
        basis: Basis = "cpu",
        target: Target | None = None,
        samples: int | None = None,
        min_sample_s: float = 0.05,
        unit: str = "s/op",
        children: bool = False,
        warmups: int = 1,
        extra: dict[str, object] | None = None,
    ) -> CaseResult:
        """Sample the contenders and build the case; ``ours`` is always the first contender."""
        n = samples if samples is not None else self.samples()
        self.progress(f"{group}.{name}: calibrating {', '.join(c.name for c in contenders)}")
        t0 = time.perf_counter()
        meas, loops, rounds = await sample(
            contenders,
            samples=n,
            warmups=warmups,
            min_sample_s=min_sample_s,
            children=children,
            progress=self.progress,
            label=f"{group}.{name}",
        )
        ours = contenders[0].name
        ratio = paired_ratio(rounds, ours, floor, basis) if floor else None
        return CaseResult(
            group=group,
            name=name,
            unit=unit,
            description=description,
            measurements=meas,
            ours=ours,
            floor=floor,
            basis=basis,
            ratio=ratio,
            target=target,
            extra={"loops": loops, "elapsed_s": time.perf_counter() - t0, **(extra or {})},
        )
