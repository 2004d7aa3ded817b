"""One mechanism per chaos event type (see ``base`` for the contract)."""

from __future__ import annotations

from ..events import ChaosEventType as T
from .base import ChaosContext, Effect, Mechanism
from .byzantine import (
    ConsensusAttackFault,
    DataCorruptionAttackFault,
    MaliciousActorFault,
    SybilAttackFault,
)
from .network import (
    CongestionFault,
    CorruptionFault,
    DisconnectionFault,
    LatencyFault,
    NetworkPartitionFault,
    PacketLossFault,
    TimingFault,
)
from .process import ClockSkewFault, CrashFault, PauseFault
from .resource import (
    CpuStressFault,
    DiskFailureFault,
    DiskSpaceExhaustionFault,
    IoBottleneckFault,
    MemoryPressureFault,
)

MECHANISMS: dict[T, type[Mechanism]] = {
    T.NETWORK_PARTITION: NetworkPartitionFault,
    T.NETWORK_LATENCY_INJECTION: LatencyFault,
    T.MESSAGE_CORRUPTION: CorruptionFault,
    T.PEER_DISCONNECTION: DisconnectionFault,
    T.PACKET_LOSS: PacketLossFault,
    T.NETWORK_CONGESTION: CongestionFault,
    T.MEMORY_PRESSURE: MemoryPressureFault,
    T.CPU_STRESS: CpuStressFault,
    T.DISK_FAILURE: DiskFailureFault,
    T.DISK_SPACE_EXHAUSTION: DiskSpaceExhaustionFault,
    T.IO_BOTTLENECK: IoBottleneckFault,
    T.MALICIOUS_ACTOR_INJECTION: MaliciousActorFault,
    T.CONSENSUS_ATTACK: ConsensusAttackFault,
    T.DATA_CORRUPTION_ATTACK: DataCorruptionAttackFault,
    T.TIMING_ATTACK: TimingFault,
    T.SYBIL_ATTACK: SybilAttackFault,
    T.PROCESS_CRASH: CrashFault,
    T.PROCESS_PAUSE: PauseFault,
    T.CLOCK_SKEW: ClockSkewFault,
}

__all__ = ["MECHANISMS", "ChaosContext", "Effect", "Mechanism"]
