"""One test method's private actor system, wired to the tracker and the monitor.

Each harness test gets a fresh system from the runtime (so one broken test cannot poison the
next), with the MessageTracker, the LifecycleMonitor, a failure log and a dead-letter log
installed as observers. On exit the system is shut down and what it leaves behind is measured
(asyncio tasks, worker threads, registry names): a runtime that leaks fails the tests that
check resource release.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ....targets.actor_runtime import (
    ActorHandle,
    ActorRuntime,
    ActorSystem,
    DeadLetter,
    MailboxSpec,
    Observers,
)
from .monitor import LifecycleMonitor
from .tracker import MessageTracker


@dataclass(frozen=True)
class FailureSeen:
    """A failure the runtime reported: escalated means a supervisor gave up (not a handler)."""

    ref: ActorHandle
    error: BaseException
    escalated: bool
    t: float


@dataclass(frozen=True)
class Leftovers:
    tasks: list[asyncio.Task[Any]]
    workers: list[str]
    registry_names: list[str]

    @property
    def leaked(self) -> int:
        return len(self.tasks) + len(self.workers)


@dataclass
class ActorSession:
    runtime: ActorRuntime
    seed: int
    default_mailbox: MailboxSpec | None = None
    tracker: MessageTracker = field(default_factory=MessageTracker)
    monitor: LifecycleMonitor = field(default_factory=LifecycleMonitor)
    failures: list[FailureSeen] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    _system: ActorSystem | None = None
    _unobserve: Callable[[], None] | None = None
    _tasks_before: set[asyncio.Task[Any]] = field(default_factory=set)
    _closed: bool = False
    _shut: bool = False

    @property
    def system(self) -> ActorSystem:
        if self._system is None:
            raise RuntimeError("the session is not open (use 'async with')")
        return self._system

    def _on_failure(self, ref: ActorHandle, exc: BaseException, escalated: bool) -> None:
        self.failures.append(FailureSeen(ref, exc, escalated, time.perf_counter()))

    async def __aenter__(self) -> ActorSession:
        self._tasks_before = set(asyncio.all_tasks())
        self._system = self.runtime.create_system(self.seed, default_mailbox=self.default_mailbox)
        self._unobserve = self._system.observe(
            Observers(
                messages=self.tracker.track_message,
                lifecycle=self.monitor.record_transition,
                failures=self._on_failure,
                dead_letters=self.dead.append,
            )
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self, timeout_s: float = 5.0) -> None:
        if self._closed or self._system is None:
            return
        self._closed = True
        try:
            if not self._shut:
                self._shut = True
                await asyncio.wait_for(self._system.shutdown(timeout_s), timeout_s + 1.0)
        finally:
            if self._unobserve is not None:
                self._unobserve()
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

    async def settle(self, timeout_s: float = 2.0) -> tuple[list[asyncio.Task[Any]], list[str]]:
        """After shutdown, give finishing tasks and threads a chance to leave; return the rest."""
        deadline = time.monotonic() + timeout_s
        while True:
            tasks, workers = self.leaked_tasks(), self.system.live_workers()
            left = deadline - time.monotonic()
            if not (tasks or workers) or left <= 0:
                return tasks, workers
            if tasks:
                await asyncio.wait(tasks, timeout=min(0.05, left))
            else:
                await asyncio.sleep(min(0.01, left))  # threads have no awaitable end

    async def shutdown_and_measure(self, timeout_s: float = 5.0) -> Leftovers:
        """Shut the system down now and report what it left behind."""
        self._shut = True
        await asyncio.wait_for(self.system.shutdown(timeout_s), timeout_s + 1.0)
        tasks, workers = await self.settle()
        registry = self.system.registry
        names = list(registry.names()) if registry is not None else []
        return Leftovers(tasks, workers, names)
