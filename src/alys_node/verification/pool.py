"""Verifier: runs the signature rules (chain/verify.py) over a process pool.

A process pool uses the other core(s) while the event loop keeps doing network I/O. Ranges are
cut into chunks so several workers share one long range; gossip-sized batches stay in a thread
because a process hop costs more than they do.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from alys_node.chain.block import Block
from alys_node.chain.verify import Item, first_invalid, items_of

_PKS: tuple[bytes, ...] = ()


def _init_worker(pks: tuple[bytes, ...]) -> None:
    global _PKS
    _PKS = pks
    _die_with_parent()


def _die_with_parent() -> None:
    """A SIGKILLed node must not leave verification workers behind (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(0)
    except Exception:
        pass


def _noop() -> None:
    return None


def _worker_first_invalid(items: list[Item]) -> int | None:
    return first_invalid(_PKS, items)


class Verifier:
    """Async facade: ``await verifier.first_invalid(blocks)``. ``workers=0`` verifies inline
    (in a thread, to keep the loop responsive); ``skip=True`` is the accept-bad-signatures bug."""

    def __init__(
        self, pks: Sequence[bytes], workers: int | None = None, skip: bool = False
    ) -> None:
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
