"""One test method's private actor system, wired to the tracker and the monitor.

Each harness test gets a fresh system from the target (so one broken test cannot poison the
next), with the MessageTracker installed as message hook, the LifecycleMonitor as lifecycle
observer and a failure log. On exit the system is shut down and the tasks it leaves behind
are measured: a runtime that leaks tasks fails the tests that check resource release.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import alys_actors as aa

from ...targets.actor_runtime import ActorRuntimeTarget
from .monitor import LifecycleMonitor
from .tracker import MessageTracker


@dataclass
class ActorSession:
    target: ActorRuntimeTarget
    seed: int
    default_mailbox: aa.MailboxConfig | None = None
    tracker: MessageTracker = field(default_factory=MessageTracker)
    monitor: LifecycleMonitor = field(default_factory=LifecycleMonitor)
    failures: list[tuple[Any, BaseException, float]] = field(default_factory=list)
    dead: list[Any] = field(default_factory=list)
    system: Any = None
    _tasks_before: set[asyncio.Task[Any]] = field(default_factory=set)
    _closed: bool = False
    _shut: bool = False

    def _on_failure(self, ref: Any, exc: BaseException) -> None:
        self.failures.append((ref, exc, time.perf_counter()))

    async def __aenter__(self) -> ActorSession:
        self._tasks_before = set(asyncio.all_tasks())
        self.system = self.target.create_system(self.seed, default_mailbox=self.default_mailbox)
        self.system.add_message_hook(self.tracker.track_message)
        self.system.add_lifecycle_observer(self.monitor.record_transition)
        self.system.add_failure_observer(self._on_failure)
        self.system.dead_letters.subscribe(self.dead.append)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        if self._closed:
            return
        self._closed = True
        try:
            if not self._shut:
                self._shut = True
                await asyncio.wait_for(self.system.shutdown(timeout=timeout), timeout + 1.0)
        finally:
            for remove, cb in (
                ("remove_message_hook", self.tracker.track_message),
                ("remove_lifecycle_observer", self.monitor.record_transition),
                ("remove_failure_observer", self._on_failure),
            ):
                fn = getattr(self.system, remove, None)
                if fn is not None:
                    fn(cb)
            leaked = self.leaked_tasks()
            for task in leaked:  # never leave them running into the next test
                task.cancel()
            if leaked:
                await asyncio.gather(*leaked, return_exceptions=True)

    def dead_keys(self, reason: str | None = None) -> list[Any]:
        """Keys of dead-lettered probes (optionally of one reason), in the order they died."""
        out = []
        for letter in self.dead:
            key = getattr(letter.msg, "key", None)
            if key is not None and (reason is None or letter.reason == reason):
                out.append(key)
        return out

    def leaked_tasks(self) -> list[asyncio.Task[Any]]:
        """Tasks created since the session began that are still running (the caller excluded)."""
        me = asyncio.current_task()
        return [
            t
            for t in asyncio.all_tasks()
            if t not in self._tasks_before and t is not me and not t.done()
        ]

    async def settle_tasks(self, timeout: float = 2.0) -> list[asyncio.Task[Any]]:  # noqa: ASYNC109
        """After shutdown, give finished tasks a chance to leave; return those still running."""
        deadline = time.monotonic() + timeout
        leaked = self.leaked_tasks()
        while leaked and time.monotonic() < deadline:
            await asyncio.wait(leaked, timeout=min(0.05, max(deadline - time.monotonic(), 0)))
            leaked = self.leaked_tasks()
        return leaked

    async def shutdown_and_measure(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Shut the system down now and report what it left behind (tasks, registry names)."""
        self._shut = True
        await asyncio.wait_for(self.system.shutdown(timeout=timeout), timeout + 1.0)
        leaked = await self.settle_tasks()
        names = list(self.system.registry.names())
        return {"leaked_tasks": len(leaked), "registry_names": names, "leaked": leaked}
