"""System group: what this machine gives, so the other groups' figures can be read.

cpu_intensive_crypto: SSZ-style hashing (sha256 over 32-byte chunk pairs) beside hashlib over
the same bytes in one call; memory_allocation_patterns: many small objects beside one
bytearray of the same size; concurrent_cpu_memory_stress: the same CPU work in 2 processes
beside 1 (the parallel speed-up the machine really offers); async_task_overhead: an asyncio
task per operation beside a plain coroutine call, and beside uvloop where it is installed.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing as mp
import os
from typing import Any

from ..context import BenchContext
from ..model import CaseResult
from ..sampler import Contender

GROUP = "system"
CHUNKS = 1024  # 32 KiB of leaves


def _merkle(data: bytes) -> bytes:
    level = [data[i : i + 32] for i in range(0, len(data), 32)]
    sha = hashlib.sha256
    while len(level) > 1:
        level = [sha(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def _burn(n: int) -> int:
    acc = 0
    data = b"x" * 64
    for _ in range(n):
        data = hashlib.sha256(data).digest()
        acc ^= data[0]
    return acc


async def run(ctx: BenchContext) -> list[CaseResult]:
    data = os.urandom(32 * CHUNKS)

    def merkle(loops: int) -> None:
        for _ in range(loops):
            _merkle(data)

    def flat(loops: int) -> None:
        for _ in range(loops):
            hashlib.sha256(data).digest()

    def small_objects(loops: int) -> None:
        for _ in range(loops):
            xs = [bytes(32) + b"%d" % i for i in range(1000)]
            del xs

    def one_buffer(loops: int) -> None:
        for _ in range(loops):
            b = bytearray(34 * 1000)
            del b

    work = ctx.size(200_000, 60_000)

    spawn = mp.get_context("spawn")
    pool1, pool2 = spawn.Pool(1), spawn.Pool(2)  # started once: the samples time the work only

    def one_proc(_: int) -> None:
        pool1.map(_burn, [work, work], chunksize=1)

    def two_procs(_: int) -> None:
        pool2.map(_burn, [work, work], chunksize=1)

    async def noop() -> None:
        return None

    async def tasks(loops: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(loops):
            await loop.create_task(noop())

    async def calls(loops: int) -> None:
        for _ in range(loops):
            await noop()

    cases = [
        await ctx.case(
            GROUP,
            "cpu_intensive_crypto",
            f"merkle root of {CHUNKS} 32-byte chunks (sha256 per pair) beside one sha256 of them",
            [Contender("merkle", merkle), Contender("flat_sha256", flat)],
            floor="flat_sha256",
        ),
        await ctx.case(
            GROUP,
            "memory_allocation_patterns",
            "1,000 small bytes objects beside one bytearray of the same total size",
            [Contender("small_objects", small_objects), Contender("one_buffer", one_buffer)],
            floor="one_buffer",
        ),
        await ctx.case(
            GROUP,
            "concurrent_cpu_memory_stress",
            "two CPU-bound jobs in 2 processes beside the same jobs in 1 (wall time)",
            [Contender("two_procs", two_procs, loops=1), Contender("one_proc", one_proc, loops=1)],
            floor="one_proc",
            basis="wall",
            samples=ctx.samples(full=5, quick=3),
            unit="s/run",
            extra={"work": work, "cpus": os.cpu_count()},
        ),
    ]
    for pool in (pool1, pool2):
        pool.terminate()
        pool.join()
    task_contenders = [Contender("create_task", tasks), Contender("plain_await", calls)]
    cases.append(
        await ctx.case(
            GROUP,
            "async_task_overhead",
            "an asyncio task per operation beside awaiting the coroutine directly",
            task_contenders,
            floor="plain_await",
            extra={"uvloop": _uvloop_note()},
        )
    )
    for c in cases:
        c.gating = False  # the machine's figures: read beside the others, never a regression
    return cases


def _uvloop_note() -> Any:
    try:
        import uvloop  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return "unsupported: uvloop not installed"
    return "installed"
