"""SyncTestHarness: real node processes syncing real, signed blocks through faulty links.

Every verdict is read back from the nodes (heads, block hashes and signatures, checkpoints,
``received_at``) or from the proxy's counters. Faults are injected at *observed* sync progress
(a height reported by the syncing node), so "mid-sync" is a measured fact, not a guess. Waits
for progress fail on a stall (``sync.stall_s``), naming the height and the peers.

The tests cover every name of the original SyncTestHarness's four groups (groups.py maps
them); scenarios that several tests read run once (parallel_sessions.SharedRun).

One module per category; this class only puts them together (report order comes from
``categories``). Bases are listed last-category-first for readers used to the MRO order.
"""

from __future__ import annotations

import time
from typing import ClassVar

from ...targets.cluster import ClusterError
from .byzantine import ByzantineTests
from .checkpoints import CheckpointTests
from .corrupted_blocks import CorruptedBlockTests
from .disconnections import DisconnectionTests
from .full_sync import FullSyncTests
from .parallel_failures import ParallelFailureTests
from .parallel_sessions import ParallelSessionTests
from .parallel_sync import ParallelSyncTests
from .partition_tolerance import PartitionToleranceTests
from .performance import PerformanceTests
from .recovery import RecoveryTests
from .resilience import ResilienceTests


class SyncTestHarness(
    ParallelFailureTests,
    ParallelSessionTests,
    ParallelSyncTests,
    RecoveryTests,
    CheckpointTests,
    PartitionToleranceTests,
    ByzantineTests,
    CorruptedBlockTests,
    DisconnectionTests,
    ResilienceTests,
    PerformanceTests,
    FullSyncTests,
):
    name: ClassVar[str] = "sync"
    # byzantine early: every rule's invalid input against one victim is the cheapest, most
    # telling verdict of the phase (a node that breaks a chain rule fails here, named)
    categories: ClassVar[tuple[str, ...]] = (
        "full_sync",
        "byzantine",
        "performance",
        "resilience",
        "partition_tolerance",
        "checkpoints",
        "parallel_sync",
    )

    async def health_check(self) -> bool:
        try:
            await self.fixture.init_spec()
        except (ClusterError, OSError):
            return False
        return True

    async def initialize(self) -> None:
        """Build (or take from the cache) the template chains the tests copy."""
        t0 = time.perf_counter()
        shorter = sorted(
            {self.parallel_height, self.scenario_height, self.session_height} - {self.height}
        )
        for h in shorter:  # each longer template extends the one before
            await self.fixture.template(h)
        t1 = time.perf_counter()
        await self.fixture.template(self.height)
        t2 = time.perf_counter()
        self._metrics["template_cache_hits"] = list(self.fixture.cache_hits)
        if self.height not in self.fixture.cache_hits:  # a copy tells nothing of production
            below = max((h for h in shorter if h < self.height), default=0)
            self._metrics["template_build_s"] = round(t2 - t0, 3)
            self._metrics["template_blocks_per_s"] = round(
                (self.height - below) / max(t2 - t1, 1e-9), 1
            )


__all__ = ["SyncTestHarness"]
