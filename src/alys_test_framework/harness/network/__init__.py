"""NetworkTestHarness: discovery, gossip, connection limits, partitions, corruption, latency.

One module per category; this class only puts them together (report order comes from
``categories``). See ``kit.base`` for how links and propagation are measured.
"""

from __future__ import annotations

from typing import ClassVar

from .connection_management import ConnectionManagementTests
from .corruption import CorruptionTests
from .discovery import DiscoveryTests
from .latency import LatencyTests
from .partition import PartitionTests
from .propagation import PropagationTests


class NetworkTestHarness(
    LatencyTests,
    CorruptionTests,
    PartitionTests,
    ConnectionManagementTests,
    PropagationTests,
    DiscoveryTests,
):
    name: ClassVar[str] = "network"
    categories: ClassVar[tuple[str, ...]] = (
        "discovery",
        "propagation",
        "connection_management",
        "partition",
        "corruption",
        "latency",
    )

    async def health_check(self) -> bool:
        try:
            await self.fixture.init_spec()
        except Exception:
            return False
        return True

    async def initialize(self) -> None:
        await self.fixture.init_spec()


__all__ = ["NetworkTestHarness"]
