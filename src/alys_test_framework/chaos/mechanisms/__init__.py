"""One mechanism per chaos event type (see ``base`` for the contract), and the choice between
the fault proxy and the kernel for network faults (``select``).

Network modes: ``proxy`` — every network fault in the fault proxy; ``kernel`` — partitions and
congestion in the kernel (nftables), the rest ``unsupported`` naming netem (this kernel has
none); ``auto`` (default) — the kernel where it works here (root, nft), else the proxy."""

from __future__ import annotations

from ..events import ChaosEventType as T
from .base import ChaosContext, Effect, Mechanism
from .byzantine import (
    ConsensusAttackFault,
    DataCorruptionAttackFault,
    MaliciousActorFault,
    SybilAttackFault,
)
from .kernel import NETEM_MISSING, KernelCongestionFault, KernelPartitionFault, nft_unavailable
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

KERNEL: dict[T, type[Mechanism]] = {
    T.NETWORK_PARTITION: KernelPartitionFault,
    T.NETWORK_CONGESTION: KernelCongestionFault,
}
NETEM_ONLY = {T.NETWORK_LATENCY_INJECTION, T.PACKET_LOSS, T.MESSAGE_CORRUPTION, T.TIMING_ATTACK}
NETWORK_MODES = ("auto", "proxy", "kernel")


def select(t: T, mode: str = "auto") -> tuple[type[Mechanism], str | None]:
    """(mechanism class, why it is unsupported or None) for event type ``t`` in ``mode``."""
    if mode not in NETWORK_MODES:
        raise ValueError(f"unknown network mode {mode!r}; choose from: {', '.join(NETWORK_MODES)}")
    if mode == "kernel" and t in NETEM_ONLY:
        return MECHANISMS[t], NETEM_MISSING
    if t in KERNEL and mode != "proxy":
        why = nft_unavailable()
        if why is None or mode == "kernel":
            return KERNEL[t], why
    cls = MECHANISMS[t]
    return cls, cls.unavailable()


__all__ = ["KERNEL", "MECHANISMS", "NETWORK_MODES", "ChaosContext", "Effect", "Mechanism",
           "select"]  # fmt: skip
