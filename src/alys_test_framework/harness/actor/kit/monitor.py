"""LifecycleMonitor: every state transition the runtime reports, with the time it was reported.

Installed as the runtime's lifecycle observer (``Observers(lifecycle=monitor.record_transition)``).
States are compared by enum member *name* so the monitor does not depend on how the runtime
spells its values. Restart delays are measured here, between the FAILED report and the next
RUNNING report of the same actor, and compared by the harness with the restart policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# The actor state machine the harness holds the runtime to (names of LifecycleState members).
LEGAL: frozenset[tuple[str, str]] = frozenset(
    {
        ("UNINITIALIZED", "STARTING"),
        ("STARTING", "RUNNING"),
        ("STARTING", "FAILED"),
        ("STARTING", "STOPPING"),
        ("RUNNING", "STOPPING"),
        ("RUNNING", "FAILED"),
        ("RUNNING", "STOPPED"),  # kill: immediate
        ("FAILED", "RECOVERING"),
        ("FAILED", "STOPPING"),
        ("FAILED", "STOPPED"),
        ("RECOVERING", "STARTING"),
        ("RECOVERING", "RUNNING"),
        ("RECOVERING", "FAILED"),
        ("RECOVERING", "STOPPING"),
        ("RECOVERING", "STOPPED"),
        ("STOPPING", "STOPPED"),
        ("STOPPING", "FAILED"),
        ("STOPPING", "RECOVERING"),  # a sibling stopped to be restarted (one_for_all)
        ("UNINITIALIZED", "STOPPED"),
    }
)


def state_name(state: Any) -> str:
    return getattr(state, "name", str(state)).upper()


@dataclass(frozen=True)
class Transition:
    actor: int
    actor_name: str
    old: str
    new: str
    reason: str
    t: float


class LifecycleMonitor:
    """Ordered transition log per actor, plus checks against the legal state machine."""

    def __init__(self, legal: frozenset[tuple[str, str]] = LEGAL) -> None:
        self.legal = legal
        self._log: list[Transition] = []
        self._by_actor: dict[int, list[Transition]] = {}
        self._changed = asyncio.Event()

    def record_transition(self, ref: Any, old: Any, new: Any, reason: str = "") -> None:
        """Observer callback ``(ref, old_state, new_state, reason)``."""
        aid = int(ref.id)
        tr = Transition(
            aid,
            ref.name or f"actor-{aid}",
            state_name(old),
            state_name(new),
            str(reason),
            time.perf_counter(),
        )
        self._log.append(tr)
        self._by_actor.setdefault(aid, []).append(tr)
        self._changed.set()

    # -- queries ---------------------------------------------------------------------------
    def current_state(self, ref: Any) -> str | None:
        lst = self._by_actor.get(_aid(ref))
        return lst[-1].new if lst else None

    def get_transitions(self, ref: Any = None) -> list[Transition]:
        if ref is None:
            return list(self._log)
        return list(self._by_actor.get(_aid(ref), ()))

    def actors(self) -> list[int]:
        return list(self._by_actor)

    def states_of(self, ref: Any) -> list[str]:
        trs = self.get_transitions(ref)
        return ([trs[0].old] if trs else []) + [t.new for t in trs]

    def count(self, ref: Any, new: str) -> int:
        return sum(1 for t in self.get_transitions(ref) if t.new == new)

    def verify_transitions(self, ref: Any = None) -> list[str]:
        """Illegal edges and broken chains (an old state that is not the previous new state)."""
        out: list[str] = []
        targets = [_aid(ref)] if ref is not None else list(self._by_actor)
        for aid in targets:
            prev: str | None = None
            for tr in self._by_actor.get(aid, ()):
                if (tr.old, tr.new) not in self.legal:
                    out.append(f"{tr.actor_name}: illegal {tr.old}->{tr.new} ({tr.reason})")
                if prev is not None and tr.old != prev:
                    out.append(f"{tr.actor_name}: reported {tr.old}->{tr.new} while in {prev}")
                prev = tr.new
        return out

    def contains_path(self, ref: Any, path: Iterable[str]) -> bool:
        """True if ``path`` occurs as consecutive states in the actor's history."""
        want = [p.upper() for p in path]
        seq = self.states_of(ref)
        return any(seq[i : i + len(want)] == want for i in range(len(seq) - len(want) + 1))

    def restart_delays(self, ref: Any) -> list[float]:
        """Seconds from each FAILED report to the next RUNNING report of the same actor."""
        out: list[float] = []
        failed_at: float | None = None
        for tr in self.get_transitions(ref):
            if tr.new == "FAILED":
                failed_at = tr.t
            elif tr.new == "RUNNING" and failed_at is not None:
                out.append(tr.t - failed_at)
                failed_at = None
        return out

    def first_time(self, ref: Any, new: str) -> float | None:
        for tr in self.get_transitions(ref):
            if tr.new == new:
                return tr.t
        return None

    def last_time(self, ref: Any, new: str) -> float | None:
        found = None
        for tr in self.get_transitions(ref):
            if tr.new == new:
                found = tr.t
        return found

    async def wait_for_state(
        self,
        ref: Any,
        state: str,
        timeout_s: float,
        occurrences: int = 1,
    ) -> bool:
        """Wait until the actor has entered ``state`` ``occurrences`` times (or the timeout).

        Gives up at once when the actor is STOPPED (terminal) and STOPPED is not what we wait
        for: waiting longer could not change the answer.
        """
        want = state.upper()

        def reached() -> bool:
            return self.count(ref, want) >= occurrences

        def settled() -> bool:
            return reached() or (want != "STOPPED" and self.current_state(ref) == "STOPPED")

        await self.wait_until(settled, timeout_s)
        return reached()

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait for a condition on reported transitions (re-checked on every report)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                pass
        return True

    def summary(self) -> dict[str, int]:
        """Transition counts by edge, for the event log (a summary, not every transition)."""
        out: dict[str, int] = {}
        for tr in self._log:
            k = f"{tr.old}->{tr.new}"
            out[k] = out.get(k, 0) + 1
        return out


def _aid(ref: Any) -> int:
    return ref if isinstance(ref, int) else int(ref.id)
