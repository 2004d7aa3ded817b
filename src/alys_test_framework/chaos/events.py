"""Chaos events as values: a type (named as the original framework's ``ChaosEvent``), the
nodes it targets, its parameters, its start offset and duration within the injection phase.

Rules:
1. An event is pure data; composing and scheduling events never touches a node. Mechanisms
   (``chaos.mechanisms``) turn an event into a real fault and measure its effect.
2. Every type belongs to one category (network, resource, byzantine, process); reports group
   results by it.
3. ``targets`` are node indices of the cluster; a network event on a target means the traffic
   to and from that node (a partition isolates the targets from the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ChaosCategory(str, Enum):
    NETWORK = "network"
    RESOURCE = "resource"
    BYZANTINE = "byzantine"
    PROCESS = "process"


class ChaosEventType(str, Enum):
    # network
    NETWORK_PARTITION = "NetworkPartition"
    NETWORK_LATENCY_INJECTION = "NetworkLatencyInjection"
    MESSAGE_CORRUPTION = "MessageCorruption"
    PEER_DISCONNECTION = "PeerDisconnection"
    PACKET_LOSS = "PacketLoss"
    NETWORK_CONGESTION = "NetworkCongestion"
    # resource
    MEMORY_PRESSURE = "MemoryPressure"
    CPU_STRESS = "CpuStress"
    DISK_FAILURE = "DiskFailure"
    DISK_SPACE_EXHAUSTION = "DiskSpaceExhaustion"
    IO_BOTTLENECK = "IoBottleneck"
    # byzantine
    MALICIOUS_ACTOR_INJECTION = "MaliciousActorInjection"
    CONSENSUS_ATTACK = "ConsensusAttack"
    DATA_CORRUPTION_ATTACK = "DataCorruptionAttack"
    TIMING_ATTACK = "TimingAttack"
    SYBIL_ATTACK = "SybilAttack"
    # process (Jepsen's nemeses)
    PROCESS_CRASH = "ProcessCrash"
    PROCESS_PAUSE = "ProcessPause"
    CLOCK_SKEW = "ClockSkew"

    @property
    def category(self) -> ChaosCategory:
        return CATEGORY[self]

    @classmethod
    def parse(cls, name: str) -> ChaosEventType:
        """By its ChaosEvent name (``PacketLoss``), case-insensitively; one clear error else."""
        for t in cls:
            if t.value.lower() == name.strip().lower() or t.name.lower() == name.strip().lower():
                return t
        raise ValueError(
            f"unknown chaos event {name!r}; choose from: {', '.join(t.value for t in cls)}"
        )


_N, _R, _B, _P = (ChaosCategory.NETWORK, ChaosCategory.RESOURCE, ChaosCategory.BYZANTINE,
                  ChaosCategory.PROCESS)  # fmt: skip
T = ChaosEventType
CATEGORY: dict[ChaosEventType, ChaosCategory] = {
    T.NETWORK_PARTITION: _N, T.NETWORK_LATENCY_INJECTION: _N, T.MESSAGE_CORRUPTION: _N,
    T.PEER_DISCONNECTION: _N, T.PACKET_LOSS: _N, T.NETWORK_CONGESTION: _N,
    T.MEMORY_PRESSURE: _R, T.CPU_STRESS: _R, T.DISK_FAILURE: _R, T.DISK_SPACE_EXHAUSTION: _R,
    T.IO_BOTTLENECK: _R,
    T.MALICIOUS_ACTOR_INJECTION: _B, T.CONSENSUS_ATTACK: _B, T.DATA_CORRUPTION_ATTACK: _B,
    T.TIMING_ATTACK: _B, T.SYBIL_ATTACK: _B,
    T.PROCESS_CRASH: _P, T.PROCESS_PAUSE: _P, T.CLOCK_SKEW: _P,
}  # fmt: skip

# parameters each type is scheduled with (the scheduler may scale durations, never these)
DEFAULT_PARAMS: dict[ChaosEventType, dict[str, Any]] = {
    T.NETWORK_PARTITION: {"mode": "drop"},
    T.NETWORK_LATENCY_INJECTION: {"latency_ms": 150.0, "jitter_ms": 30.0},
    T.MESSAGE_CORRUPTION: {"corrupt": 0.35},
    T.PEER_DISCONNECTION: {"mode": "close"},
    T.PACKET_LOSS: {"loss": 0.5, "loss_rto_ms": 200.0},
    T.NETWORK_CONGESTION: {"bandwidth_bps": 4000.0},
    T.MEMORY_PRESSURE: {"headroom_mib": 48, "stress_mib": 96},
    T.CPU_STRESS: {"quota_pct": 10, "stressors": 1},
    T.DISK_FAILURE: {"write_error_rate": 0.5},
    T.DISK_SPACE_EXHAUSTION: {"tmpfs_mib": 32},
    T.IO_BOTTLENECK: {"write_bps": 256 * 1024},
    T.MALICIOUS_ACTOR_INJECTION: {},
    T.CONSENSUS_ATTACK: {},
    T.DATA_CORRUPTION_ATTACK: {"corrupt": 0.5},
    T.TIMING_ATTACK: {"latency_ms": 400.0},
    T.SYBIL_ATTACK: {"identities": 30},
    T.PROCESS_CRASH: {},
    T.PROCESS_PAUSE: {},
    T.CLOCK_SKEW: {"offset_s": 30.0},
}


@dataclass(frozen=True)
class ChaosEvent:
    """One fault: what, where, with which parameters, when (seconds into injection), how long."""

    type: ChaosEventType
    targets: tuple[int, ...]
    start_s: float
    duration_s: float
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    id: int = 0

    @property
    def category(self) -> ChaosCategory:
        return self.type.category

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def label(self) -> str:
        return f"#{self.id} {self.type.value}@{','.join(f'node-{t}' for t in self.targets)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type.value, "category": self.category.value,
            "targets": [f"node-{t}" for t in self.targets], "start_s": round(self.start_s, 3),
            "duration_s": round(self.duration_s, 3), "params": dict(self.params),
        }  # fmt: skip
