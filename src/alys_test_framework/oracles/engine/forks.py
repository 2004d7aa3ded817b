"""The fork schedule the harness drives, by block index.

Rules: block ``i`` of every chain the harness builds has timestamp ``GENESIS_TIME + i * SLOT_S``;
a fork is active from its activation timestamp on (shanghai = capella, cancun = deneb); the
method version follows the fork of the timestamp (V1 bellatrix, V2 capella, V3 deneb).
"""

from __future__ import annotations

from dataclasses import dataclass

GENESIS_TIME = 1_700_000_000
SLOT_S = 12
VERSION = {"bellatrix": 1, "capella": 2, "deneb": 3}


@dataclass(frozen=True)
class ForkSchedule:
    """Activation timestamps of capella and deneb, and the genesis timestamp."""

    capella_time: int = 0
    deneb_time: int = 0
    genesis_time: int = GENESIS_TIME

    def fork_at(self, timestamp: int) -> str:
        if timestamp >= self.deneb_time:
            return "deneb"
        if timestamp >= self.capella_time:
            return "capella"
        return "bellatrix"

    def block_time(self, index: int) -> int:
        return self.genesis_time + index * SLOT_S

    def fork_of_block(self, index: int) -> str:
        return self.fork_at(self.block_time(index))


def schedule_for(capella_block: int, deneb_block: int) -> ForkSchedule:
    """Forks activating at block indices (deneb never before capella)."""
    return ForkSchedule(
        capella_time=GENESIS_TIME + capella_block * SLOT_S,
        deneb_time=GENESIS_TIME + max(deneb_block, capella_block) * SLOT_S,
        genesis_time=GENESIS_TIME,
    )
