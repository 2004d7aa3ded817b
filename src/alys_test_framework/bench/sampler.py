"""Taking samples: warm-up, calibrated loops, contenders interleaved, wall and CPU time.

Rules of this module:
1. Each contender is an operation ``fn(loops)`` that performs ``loops`` operations; a sample is
   one call, and its per-operation wall and CPU times are dt / loops.
2. Loops are calibrated per contender so that one sample takes at least ``min_sample_s`` of
   CPU time (doubling from 1; load cannot shorten the count); warm-up samples are taken and
   discarded first.
3. Contenders are sampled round-robin, sample i of every contender back to back, so a burst of
   load hits all of them; the ratio of a case is computed per round (ours_i ÷ floor_i). The
   order alternates between rounds (A B, B A, ...) so that going first or second — a fresh
   cache after the collector ran, a core just freed — favours neither side.
4. CPU time is the process's (all threads; children when ``children`` is set), beside wall
   time: on a shared 2-core machine wall time also holds the wait for a core.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .model import Measurement
from .stats import Summary, summarize

Op = Callable[[int], Awaitable[None] | None]
Progress = Callable[[str], None]


@dataclass
class Contender:
    name: str
    fn: Op
    loops: int | None = None  # fixed loops (heavy operations); None = calibrate


def _cpu(children: bool) -> float:
    """Process CPU seconds at nanosecond resolution (os.times ticks at 10 ms: too coarse for a
    50 ms sample), plus reaped children's (tick resolution) when asked."""
    if not children:
        return time.process_time()
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


async def _timed(fn: Op, loops: int, children: bool) -> tuple[float, float]:
    gc.collect()
    w0, c0 = time.perf_counter(), _cpu(children)
    r = fn(loops)
    if inspect.isawaitable(r):
        await r
    return time.perf_counter() - w0, _cpu(children) - c0


async def _calibrate(c: Contender, min_sample_s: float, children: bool) -> int:
    if c.loops is not None:
        return c.loops
    loops = 1
    while loops < 1 << 22:
        wall, cpu = await _timed(c.fn, loops, children)
        # CPU time decides: one descheduling of this process during a short probe would make
        # the wall time reach the mark at 2 loops, and every sample would then measure a
        # case's fixed cost instead of its operation (seen: a 50x ratio on a loaded machine).
        # Wall time only stops an operation that waits rather than computes.
        if cpu >= min_sample_s or wall >= 20 * min_sample_s:
            break
        loops *= 2 if cpu > min_sample_s / 10 else 8
    return loops


async def sample(
    contenders: list[Contender],
    *,
    samples: int,
    warmups: int = 1,
    min_sample_s: float = 0.05,
    children: bool = False,
    progress: Progress | None = None,
    label: str = "",
) -> tuple[dict[str, Measurement], dict[str, int], list[dict[str, float]]]:
    """Sample every contender ``samples`` times, interleaved; returns measurements, loops and
    the raw per-round wall/CPU values (for paired ratios)."""
    loops = {c.name: await _calibrate(c, min_sample_s, children) for c in contenders}
    for _ in range(warmups):
        for c in contenders:
            await _timed(c.fn, loops[c.name], children)
    rounds: list[dict[str, float]] = []
    for i in range(samples):
        if progress is not None:
            progress(f"{label}: sample {i + 1}/{samples}")
        row: dict[str, float] = {}
        for c in contenders if i % 2 == 0 else contenders[::-1]:
            wall, cpu = await _timed(c.fn, loops[c.name], children)
            n = loops[c.name]
            row[f"{c.name}.wall"] = wall / n
            row[f"{c.name}.cpu"] = cpu / n
        rounds.append(row)
    return measurements(rounds, [c.name for c in contenders], label), loops, rounds


def measurements(
    rounds: list[dict[str, float]], names: list[str], label: str = ""
) -> dict[str, Measurement]:
    """Each contender's wall (and, where every round has it, CPU) summary from raw rounds."""
    out = {}
    for name in names:
        walls = [r[f"{name}.wall"] for r in rounds]
        cpus = [r[f"{name}.cpu"] for r in rounds if f"{name}.cpu" in r]
        cpu = summarize(cpus, f"{label}.{name}.cpu") if len(cpus) == len(rounds) else None
        out[name] = Measurement(summarize(walls, f"{label}.{name}.wall"), cpu)
    return out


def paired_ratio(rounds: list[dict[str, float]], ours: str, floor: str, basis: str) -> Summary:
    """ours ÷ floor per round on the given basis (lower is better)."""
    vals = []
    for r in rounds:
        f = r[f"{floor}.{basis}"]
        vals.append(r[f"{ours}.{basis}"] / f if f > 0 else float("inf"))
    return summarize(vals, f"ratio {ours}/{floor}")


def run_sync(coro: Awaitable[object]) -> object:
    """Run a sampling coroutine from synchronous code (one event loop per group)."""
    return asyncio.run(coro)  # type: ignore[arg-type]
