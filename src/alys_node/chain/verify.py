"""Signature verification of block ranges: batched, spread over a process pool.

Batch verification (one multi-pairing for a whole range) is several times cheaper than one
verification per block; when a batch fails we fall back to per-block checks only to name the
culprit. A process pool uses the other core(s) while the event loop keeps doing network I/O.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from alys_node.chain.block import Block

Item = tuple[int, bytes, bytes]  # (producer index, signed message = header hash, signature)

_PKS: tuple[bytes, ...] = ()


def _init_worker(pks: tuple[bytes, ...]) -> None:
    global _PKS
    _PKS = pks
    _die_with_parent()


def _die_with_parent() -> None:
    """A SIGKILLed node must not leave verification workers behind (Linux prctl)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(0)
    except Exception:
        pass


def first_invalid(pks: Sequence[bytes], items: Sequence[Item]) -> int | None:
    """Index of the first item whose signature is invalid, or None if all verify."""
    from alys_node.crypto import bls

    for i, (p, _m, _s) in enumerate(items):
        if p >= len(pks):
            return i
    if not items:
        return None
    try:
        ok = bls.verify_batch([(pks[p], m, s) for p, m, s in items])
    except Exception:
        ok = False
    if ok:
        return None
    for i, (p, m, s) in enumerate(items):
        try:
            if not bls.verify(pks[p], m, s):
                return i
        except Exception:
            return i
    return None  # batch said no but every single check passed: trust the single checks


def _noop() -> None:
    return None


def _worker_first_invalid(items: list[Item]) -> int | None:
    return first_invalid(_PKS, items)


def items_of(blocks: Sequence[Block]) -> list[Item]:
    return [(b.header.producer, b.hash, b.signature) for b in blocks]


class Verifier:
    """Async facade: ``await verifier.first_invalid(blocks)``. ``workers=0`` verifies inline
    (in a thread, to keep the loop responsive); ``skip=True`` is the accept-bad-signatures bug."""

    def __init__(self, pks: Sequence[bytes], workers: int | None = None, skip: bool = False):
        self.pks = tuple(pks)
        self.skip = skip
        n = (os.cpu_count() or 1) if workers is None else workers
        self.workers = n
        self._pool: Executor | None = None
        self.chunk = 64
        self._warm = False
        if n > 0 and not skip:
            # spawn, not fork: forking a process that runs threads (sqlite, aiohttp) can copy a
            # held lock into the child; not forkserver: its workers outlive a SIGKILLed node.
            self._rebuild()

    def _rebuild(self) -> None:
        old, self._pool = self._pool, None
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self.pks,)
        )
        self._warm = False

    def warm(self) -> None:
        """Start the workers now (called when a sync begins) so their start-up overlaps with the
        first downloads instead of delaying the first verification."""
        if self._pool is not None and not self._warm:
            self._warm = True
            for _ in range(self.workers):
                self._pool.submit(_noop)

    async def first_invalid(self, blocks: Sequence[Block]) -> int | None:
        if self.skip or not blocks:
            return None
        loop = asyncio.get_running_loop()
        items = items_of(blocks)
        if len(items) <= 4 or self._pool is None:  # gossip-sized: not worth a process hop
            return await asyncio.to_thread(first_invalid, self.pks, items)
        chunks = [items[i : i + self.chunk] for i in range(0, len(items), self.chunk)]
        try:
            futs = [loop.run_in_executor(self._pool, _worker_first_invalid, c) for c in chunks]
            results = await asyncio.gather(*futs)
        except BrokenProcessPool:  # a worker died (OOM, kill): verify here, rebuild the pool
            self._rebuild()
            return await asyncio.to_thread(first_invalid, self.pks, items)
        for ci, r in enumerate(results):
            if r is not None:
                return ci * self.chunk + r
        return None

    def close(self) -> None:
        if self._pool is not None:  # wait: unjoined workers make the resource tracker complain
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
