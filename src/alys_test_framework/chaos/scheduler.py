"""ChaosEventScheduler: the seeded schedule of a chaos run, and the run's phases.

Rules:
1. The schedule is a pure function of (seed, duration, event_frequency, max_concurrent_events,
   allowed types, node count): same inputs → the same events (types, targets, start times,
   durations, parameters). It is printed in the report so a failing run can be replayed.
2. ``count = max(1, round(duration * event_frequency / 60))``; with ``cover_all`` the count is
   raised to the number of allowed types. Types are drawn as seeded permutations of the allowed
   types, one after another, so every type occurs before any type repeats.
3. ``max_concurrent_events`` lanes; events go round-robin to lanes, each lane's events are
   disjoint in time (a slot of ``duration * lanes / count`` seconds each, fault in its first
   half, the rest for recovery), so at most ``lanes`` faults are active at once. Concurrently
   scheduled events never share a target, and no node is the target of two faults at once.
4. Targets: one node per event (a partition isolates it from the rest; link faults act on the
   traffic to and from it). DiskSpaceExhaustion targets the producer (node 0), whose client
   acknowledgements show the disk-full error; ClockSkew, TimingAttack, IoBottleneck and
   DiskFailure (its FUSE datadir must not stack on the producer's tmpfs) target followers
   (``FOLLOWERS_ONLY``: nodes ``producers`` and up); with two or more producers
   (nodes 0..producers-1, each its own authority) a NetworkPartition isolates a producer, so
   both sides keep producing and the heal offers competing forks to fork choice
   (``SPLITS_PRODUCERS``); everything else may hit any node.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .events import DEFAULT_PARAMS, ChaosEvent, ChaosEventType

MIN_EVENT_S = 1.5
MAX_EVENT_S = 20.0
PRODUCER = 0
PRODUCER_ONLY = {ChaosEventType.DISK_SPACE_EXHAUSTION}
# the producer stamps blocks with its clock (a skewed producer would stall the chain for the
# skew once healed), a selective delay of what it receives shows nothing, and its datadir is
# on tmpfs (no block device to throttle)
FOLLOWERS_ONLY = {
    ChaosEventType.CLOCK_SKEW,
    ChaosEventType.TIMING_ATTACK,
    ChaosEventType.IO_BOTTLENECK,
    ChaosEventType.DISK_FAILURE,
}
SPLITS_PRODUCERS = {ChaosEventType.NETWORK_PARTITION}


class ChaosPhase(str, Enum):
    INITIALIZING = "Initializing"
    PRE_CHAOS_HEALTH_CHECK = "PreChaosHealthCheck"
    CHAOS_INJECTION = "ChaosInjection"
    RECOVERY_VALIDATION = "RecoveryValidation"
    POST_CHAOS_HEALTH_CHECK = "PostChaosHealthCheck"
    COMPLETED = "Completed"


PHASES: tuple[ChaosPhase, ...] = tuple(ChaosPhase)


@dataclass(frozen=True)
class ScheduleSpec:
    seed: int
    duration_s: float
    event_frequency: float  # events per minute
    max_concurrent_events: int
    allowed: tuple[ChaosEventType, ...]
    nodes: int
    cover_all: bool = True
    producers: int = 1


class ChaosEventScheduler:
    def __init__(self, spec: ScheduleSpec) -> None:
        if spec.nodes < 2:
            raise ValueError("a chaos run needs at least 2 nodes")
        if not 1 <= spec.producers < spec.nodes:
            raise ValueError("a chaos run needs 1 to nodes-1 producers (one follower at least)")
        if not spec.allowed:
            raise ValueError("no chaos event types allowed")
        self.spec = spec

    @property
    def count(self) -> int:
        s = self.spec
        n = max(1, round(s.duration_s * s.event_frequency / 60))
        return max(n, len(s.allowed)) if s.cover_all else n

    def schedule(self) -> list[ChaosEvent]:
        s = self.spec
        rng = random.Random(f"chaos-schedule:{s.seed}")
        n = self.count
        lanes = max(1, min(s.max_concurrent_events, s.nodes - 1, n))
        types: list[ChaosEventType] = []
        while len(types) < n:
            perm = sorted(s.allowed, key=lambda t: t.value)
            rng.shuffle(perm)
            types += perm
        types = types[:n]
        per_lane = math.ceil(n / lanes)
        slot = s.duration_s / per_lane
        events: list[ChaosEvent] = []
        for i, typ in enumerate(types):
            lane, k = i % lanes, i // lanes
            start = k * slot + lane * slot / lanes / 2 + rng.uniform(0, 0.05 * slot)
            dur = min(MAX_EVENT_S, max(MIN_EVENT_S, rng.uniform(0.3, 0.45) * slot))
            busy = {t for e in events if e.start_s < start + dur and start < e.end_s
                    for t in e.targets}  # fmt: skip
            if typ in PRODUCER_ONLY:
                choices = [PRODUCER] if PRODUCER not in busy else []
            else:
                choices = [x for x in _allowed(typ, s.nodes, s.producers) if x not in busy]
            if not choices:  # keep the lane's slot free rather than double-fault a node
                start = max(e.end_s for e in events) + 0.5
                choices = ([PRODUCER] if typ in PRODUCER_ONLY
                           else _allowed(typ, s.nodes, s.producers))  # fmt: skip
            target = rng.choice(choices)
            events.append(ChaosEvent(typ, (target,), round(start, 3), round(dur, 3),
                                     dict(DEFAULT_PARAMS[typ]), id=i + 1))  # fmt: skip
        return sorted(events, key=lambda e: (e.start_s, e.id))


def _allowed(typ: ChaosEventType, nodes: int, producers: int = 1) -> list[int]:
    if typ in FOLLOWERS_ONLY:
        return list(range(producers, nodes))
    if typ in SPLITS_PRODUCERS and producers >= 2:
        return list(range(producers))
    return list(range(nodes))


def format_schedule(events: Sequence[ChaosEvent]) -> list[str]:
    """One line per event, the form printed by ``alys-test chaos`` and kept in the report."""
    return [
        f"{e.start_s:8.2f}s +{e.duration_s:5.2f}s  {e.type.value:<26} "
        f"{','.join(f'node-{t}' for t in e.targets)}"
        for e in events
    ]
