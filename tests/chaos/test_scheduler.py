"""The seeded schedule: same seed, same events; every type before repeats; no node faulted
twice at once; at most max_concurrent_events active; producer/follower-only targets kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alys_test_framework.chaos import ChaosEventScheduler, ChaosEventType, ScheduleSpec
from alys_test_framework.chaos.mechanisms import MECHANISMS
from alys_test_framework.chaos.scheduler import FOLLOWERS_ONLY, PRODUCER_ONLY, format_schedule

ALL = tuple(ChaosEventType)


def spec(seed: int = 1, k: int = 1, dur: float = 120.0, types: tuple = ALL) -> ScheduleSpec:
    return ScheduleSpec(seed, dur, 2.0, k, types, 3)


def test_same_seed_same_schedule_and_other_seed_differs() -> None:
    a = ChaosEventScheduler(spec(1)).schedule()
    assert a == ChaosEventScheduler(spec(1)).schedule()
    assert format_schedule(a) == format_schedule(ChaosEventScheduler(spec(1)).schedule())
    assert format_schedule(a) != format_schedule(ChaosEventScheduler(spec(2)).schedule())


@pytest.mark.parametrize("k", [1, 2])
def test_every_type_once_and_no_double_fault(k: int) -> None:
    evs = ChaosEventScheduler(spec(3, k)).schedule()
    assert {e.type for e in evs} == set(ALL)
    for e in evs:
        active = [x for x in evs if x.start_s < e.end_s and e.start_s < x.end_s]
        assert len(active) <= k, (e, active)
        for x in active:
            if x is not e:
                assert not set(x.targets) & set(e.targets)
        if e.type in PRODUCER_ONLY:
            assert e.targets == (0,)
        if e.type in FOLLOWERS_ONLY:
            assert 0 not in e.targets


def test_count_follows_frequency_without_cover_all() -> None:
    s = ScheduleSpec(0, 600.0, 2.0, 1, (ChaosEventType.PROCESS_CRASH,), 3, cover_all=False)
    assert len(ChaosEventScheduler(s).schedule()) == 20  # ci_cd: 2 events/min for 10 min


def test_unknown_event_name_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown chaos event 'nope'; choose from: Network"):
        ChaosEventType.parse("nope")
    assert ChaosEventType.parse("packetloss") is ChaosEventType.PACKET_LOSS


def test_disk_failure_available_or_names_what_to_install() -> None:
    """The FUSE passthrough works where root, /dev/fuse and fusepy + libfuse2 are present;
    elsewhere the event is unsupported naming what to install, never silently skipped."""
    why = MECHANISMS[ChaosEventType.DISK_FAILURE].unavailable()
    expected = os.geteuid() == 0 and Path("/dev/fuse").exists() and _fusepy_loads()
    if expected:
        assert why is None
    else:
        assert why is not None and ("install" in why or "root" in why or "/dev/fuse" in why)


def _fusepy_loads() -> bool:
    try:
        import fuse  # type: ignore[import-untyped]  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def test_two_producers_partition_splits_them_and_followers_stay_followers() -> None:
    s = ScheduleSpec(1, 120.0, 2.0, 1, ALL, 3, producers=2)
    evs = ChaosEventScheduler(s).schedule()
    for e in evs:
        if e.type is ChaosEventType.NETWORK_PARTITION:
            assert e.targets[0] in (0, 1)  # both sides keep an authority: competing forks
        if e.type in FOLLOWERS_ONLY:
            assert e.targets == (2,)
    with pytest.raises(ValueError, match="producers"):
        ChaosEventScheduler(ScheduleSpec(1, 60.0, 2.0, 1, ALL, 3, producers=3))


def test_kernel_mode_names_netem_for_what_only_netem_can_do() -> None:
    from alys_test_framework.chaos.mechanisms import select

    for t in (ChaosEventType.NETWORK_LATENCY_INJECTION, ChaosEventType.PACKET_LOSS,
              ChaosEventType.MESSAGE_CORRUPTION):  # fmt: skip
        _, why = select(t, "kernel")
        assert why is not None and "netem" in why
    _, why = select(ChaosEventType.NETWORK_LATENCY_INJECTION, "proxy")
    assert why is None
    with pytest.raises(ValueError, match="unknown network mode"):
        select(ChaosEventType.NETWORK_PARTITION, "bogus")
