"""The stateful model test must be able to fail: run it against deliberately broken runtimes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from alys_actors import mailbox as mbox
from alys_actors import supervision

from .test_actors_stateful import ActorRuntimeMachine

_orig_overflow = mbox.Mailbox._overflow


def drop_oldest_takes_newest(self: mbox.Mailbox, item: Any, priority: mbox.Priority) -> Any:
    if self.policy is mbox.OverflowPolicy.DROP_OLDEST:
        for p in reversed(mbox._PRIOS):
            if self._queues[p]:
                evicted = self._queues[p].pop()
                self._queues[priority].append(item)
                return mbox.PutResult(True, "dropped_oldest", evicted, p)
    return _orig_overflow(self, item, priority)


def drop_newest_loses_silently(self: mbox.Mailbox, item: Any, priority: mbox.Priority) -> Any:
    if self.policy is mbox.OverflowPolicy.DROP_NEWEST:
        return mbox.PutResult(True)  # claims delivery, message vanishes
    return _orig_overflow(self, item, priority)


def intensity_off_by_one(self: supervision.Supervisor, ref: Any, now: float) -> bool:
    self._restart_times = [t for t in self._restart_times if now - t < self.within_s]
    return len(self._restart_times) > self.max_restarts


def lifo_within_priority(self: mbox.Mailbox, item: Any, priority: mbox.Priority) -> Any:
    if self._size < self.capacity:
        self._queues[priority].appendleft(item)
        self._size += 1
        self.wake()
        return mbox.ACCEPTED
    return self._overflow(item, priority)


MUTANTS: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "drop_oldest evicts the newest": (mbox.Mailbox, "_overflow", drop_oldest_takes_newest),
    "drop_newest loses silently": (mbox.Mailbox, "_overflow", drop_newest_loses_silently),
    "intensity off by one": (supervision.Supervisor, "_over_intensity", intensity_off_by_one),
    "LIFO within a priority": (mbox.Mailbox, "put_nowait", lifo_within_priority),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_stateful_model_catches(mutant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cls, attr, fn = MUTANTS[mutant]
    monkeypatch.setattr(cls, attr, fn)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            ActorRuntimeMachine,
            settings=settings(
                max_examples=200,
                stateful_step_count=25,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],  # no shrinking: we only need the failure
                report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
