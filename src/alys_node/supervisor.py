"""The node's root supervisor: what happens when an actor has failed too often.

The runtime restarts a failed actor at once, up to its restart intensity (3 failures in 5 s);
beyond that the root guardian stops it and reports an ``Escalation``. Left there, the node was
half-alive (issue #14, D1: storage stopped for good while chain_head still answered). Rules:
1. An escalation of a critical actor (CRITICAL) respawns that actor after a backoff that doubles
   per escalation (BASE_S .. CAP_S), under the same name, so every lookup by name finds it again.
2. More than MAX_ESCALATIONS escalations within WINDOW_S mean the subsystem cannot recover:
   the node stops and the process exits EXIT_CODE, naming the actor and its last error. An
   escalation caused by the environment (``transient``: a failed store write, e.g. a full disk)
   is respawned with the same backoff but never counted towards giving up: the node keeps
   serving reads and resumes writing by itself when the disk has room again.
3. ``health()`` reports every actor's lifecycle state, restarts and failures, and the node's own
   verdict (ok / recovering / failed), for the ``node_health`` RPC and ``GET /health``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alys_actors import ActorRef, ActorSystem, Escalation, LifecycleState, MailboxConfig
from alys_node.store.blockstore import StoreWriteError

log = logging.getLogger("alys_node.supervisor")

CRITICAL = ("storage", "chain", "sync", "network", "rpc")
BASE_S = 0.5
CAP_S = 8.0
MAX_ESCALATIONS = 5
WINDOW_S = 120.0
EXIT_CODE = 70  # EX_SOFTWARE


@dataclass
class _Spec:
    factory: Callable[[], Any]
    mailbox: MailboxConfig | None
    escalations: list[float] = field(default_factory=list)  # counted towards giving up
    recent: list[float] = field(default_factory=list)  # every escalation: sets the backoff
    last_error: str = ""


class RootSupervisor:
    def __init__(
        self,
        system: ActorSystem,
        request_stop: Callable[[], None],
        refs: dict[str, ActorRef] | None = None,
        *,
        critical: tuple[str, ...] = CRITICAL,
        base_s: float = BASE_S,
        cap_s: float = CAP_S,
        max_escalations: int = MAX_ESCALATIONS,
        window_s: float = WINDOW_S,
        transient: tuple[type[BaseException], ...] = (StoreWriteError,),
    ) -> None:
        self.transient = transient
        self.system = system
        self.request_stop = request_stop
        self.refs = refs if refs is not None else {}
        self.critical = critical
        self.base_s, self.cap_s = base_s, cap_s
        self.max_escalations, self.window_s = max_escalations, window_s
        self.specs: dict[str, _Spec] = {}
        self.recovering: set[str] = set()
        self.fatal: str | None = None
        self.exit_code = 0
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        system.add_failure_observer(self._on_failure)

    async def spawn(
        self, factory: Callable[[], Any], *, name: str, mailbox: MailboxConfig | None = None
    ) -> ActorRef:
        """ActorSystem.spawn, remembering how to build the actor again."""
        self.specs[name] = _Spec(factory, mailbox)
        return await self.system.spawn(factory, name=name, mailbox=mailbox)

    def close(self) -> None:
        """The node is stopping: no more respawns."""
        self._stopping.set()
        for t in list(self._tasks):
            t.cancel()

    # -- escalation ---------------------------------------------------------------------
    def _on_failure(self, ref: ActorRef, error: BaseException) -> None:
        name = ref.name or ""
        # with an observer installed the runtime no longer logs failures itself: we do
        log.warning("actor failed", extra={"actor": name or ref.label, "error": repr(error)})
        if name in self.specs:
            self.specs[name].last_error = repr(error.__cause__ or error)
        if not isinstance(error, Escalation) or name not in self.critical:
            return
        if self._stopping.is_set() or name in self.recovering or name not in self.specs:
            return
        spec = self.specs[name]
        now = time.monotonic()
        spec.escalations = [t for t in spec.escalations if now - t < self.window_s]
        spec.recent = [t for t in spec.recent if now - t < self.window_s] + [now]
        if not isinstance(error.__cause__, self.transient):
            spec.escalations.append(now)
        n = len(spec.escalations)
        if n > self.max_escalations:
            self._give_up(name, error, n)
            return
        delay = min(self.cap_s, self.base_s * 2 ** min(len(spec.recent) - 1, 16))
        log.error(
            "actor exceeded its restart intensity; respawning after backoff",
            extra={
                "actor": name,
                "delay_s": delay,
                "escalation": len(spec.recent),
                "error": str(error),
            },  # fmt: skip
        )
        self.recovering.add(name)
        task = asyncio.get_running_loop().create_task(self._respawn(name, ref, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _give_up(self, name: str, error: BaseException, n: int) -> None:
        self.fatal = (
            f"actor {name!r} escalated {n} times within {self.window_s:g} s and cannot recover; "
            f"last error: {error.__cause__ or error!r}"
        )
        self.exit_code = EXIT_CODE
        log.critical("node cannot recover; stopping", extra={"actor": name, "reason": self.fatal})
        self._stopping.set()
        self.request_stop()

    async def _respawn(self, name: str, old: ActorRef, delay: float) -> None:
        try:
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return  # the node is stopping meanwhile
            except TimeoutError:
                pass
            # the root guardian stops the old actor right after reporting; its name is free then
            while old.state is not LifecycleState.STOPPED or self.system.lookup(name) is old:
                if self._stopping.is_set():
                    return
                await asyncio.sleep(0.02)
            spec = self.specs[name]
            try:
                self.refs[name] = await self.system.spawn(
                    spec.factory, name=name, mailbox=spec.mailbox
                )
            except Exception as e:
                log.error("respawn failed", extra={"actor": name, "error": repr(e)})
                self._give_up(name, e, len(spec.escalations))
                return
            log.warning("actor respawned", extra={"actor": name})
        finally:
            self.recovering.discard(name)

    # -- health -------------------------------------------------------------------------
    def health(self) -> dict:
        actors: dict[str, dict] = {}
        for ref in self.system.actors():
            if ref.name is None:
                continue
            actors[ref.name] = {
                "state": ref.state.value,
                "restarts": ref.stats.restarts,
                "failures": ref.stats.failures,
            }
        for name in self.critical:
            spec = self.specs.get(name)
            entry = actors.setdefault(name, {"state": "stopped", "restarts": 0, "failures": 0})
            if spec is not None:
                entry["escalations"] = len(spec.recent)
                if spec.last_error:
                    entry["last_error"] = spec.last_error
            if name in self.recovering:
                entry["state"] = "recovering"
        down = [n for n in self.critical if actors[n]["state"] != LifecycleState.RUNNING.value]
        if self.fatal:
            verdict = "failed"
        elif down:
            verdict = "recovering" if set(down) <= self.recovering else "degraded"
        else:
            verdict = "ok"
        out: dict = {"ok": verdict == "ok", "state": verdict, "actors": actors}
        if self.fatal:
            out["error"] = self.fatal
        return out
