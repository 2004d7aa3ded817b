"""The seeded schedule: same seed, same events; every type before repeats; no node faulted
twice at once; at most max_concurrent_events active; producer/follower-only targets kept."""

from __future__ import annotations

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


def test_disk_failure_is_unsupported_with_what_to_install() -> None:
    why = MECHANISMS[ChaosEventType.DISK_FAILURE].unavailable()
    assert why is not None and "dm-flakey" in why and "install" in why
