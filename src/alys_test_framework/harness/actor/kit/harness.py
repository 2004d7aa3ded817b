"""Shared plumbing of the actor harness: the runtime, scales from config, sessions, events.

The harness reaches a runtime only through the runtime protocol
(``alys_test_framework.targets.actor_runtime``). A test states the capabilities it needs with
``needs``; on a runtime lacking one it ends UNSUPPORTED with the runtime's own reason, so a
missing feature is never passed and never mistaken for a crash.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from ....targets.actor_runtime import (
    ActorHandle,
    ActorRuntime,
    ActorRuntimeError,
    MailboxSpec,
    Overflow,
    RestartSpec,
    Strategy,
    runtime_named,
)
from ...base import BaseHarness, HarnessContext, Outcome
from .behaviours import Block, Gate, InjectedFailure, Worker
from .session import ActorSession
from .tracker import MessageTracker, Probe


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; 0.0 for no values (callers check counts separately)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def configured_runtime(ctx: HarnessContext) -> ActorRuntime:
    """The runtime named by ``actor_system.runtime`` (alys_actors unless configured)."""
    return runtime_named(ctx.config.actor_system.runtime)


class ActorHarnessBase(BaseHarness):
    """Holds the runtime and hands each test method a fresh, instrumented actor system."""

    def __init__(self, ctx: HarnessContext, target: ActorRuntime | None = None) -> None:
        super().__init__(ctx)
        self.target: ActorRuntime = target if target is not None else configured_runtime(ctx)
        self.acfg = ctx.config.actor_system

    # -- scales (all from config; small floors keep the properties meaningful) ---------------
    @property
    def timeout_s(self) -> float:
        """Bound for any single wait on the runtime (message_timeout_ms)."""
        return self.acfg.message_timeout_ms / 1000.0

    def scale(self, field: str, lo: int, hi: int | None = None) -> int:
        value = int(getattr(self.acfg, field))
        value = max(lo, value)
        return min(hi, value) if hi is not None else value

    def rng(self, salt: str) -> random.Random:
        return self.ctx.rng(f"actor:{salt}")

    # -- capabilities ----------------------------------------------------------------------
    def needs(self, out: Outcome, *capabilities: str) -> None:
        """End the test UNSUPPORTED (with the runtime's reasons) unless it has them all."""
        missing = [c for c in capabilities if not self.target.supports(c)]
        if missing:
            reasons = dict.fromkeys(self.target.why_not(c) for c in missing)
            out.unsupported(f"{self.target.name} lacks {', '.join(missing)}: {'; '.join(reasons)}")

    def bounded(
        self, out: Outcome, capacity: int, overflow: Overflow = Overflow.BACKPRESSURE
    ) -> MailboxSpec | None:
        """A bounded mailbox where the runtime has them; else its own (the test does not
        depend on the bound, which is recorded so the report says what was measured)."""
        if self.target.supports("bounded_mailbox") and self.target.supports(overflow.capability):
            return MailboxSpec(capacity, overflow)
        out.record(mailbox="runtime default (unbounded): " + self.target.why_not("bounded_mailbox"))
        return None

    def session(
        self, label: str, mailbox: MailboxSpec | None = None, keep_messages: bool = False
    ) -> ActorSession:
        """A fresh system seeded from the run seed and the test label (failures replay).

        ``keep_messages`` makes the tracker keep message objects, for content checks.
        """
        seed = self.rng(label).randrange(2**31)
        return ActorSession(
            self.target,
            seed,
            default_mailbox=mailbox,
            tracker=MessageTracker(keep_messages=keep_messages),
        )

    # -- events ------------------------------------------------------------------------------
    def emit(self, type_: str, **metadata: Any) -> None:
        self.ctx.events.emit(type_, self.name, **metadata)

    def emit_session(self, test: str, s: ActorSession, sample: int = 3) -> None:
        """Lifecycle summary, restarts and a few sampled messages: enough to replay what mattered."""
        self.emit("actor_lifecycle_summary", test=test, transitions=s.monitor.summary())
        restarted: dict[int, str] = {}
        for tr in s.monitor.get_transitions():
            if (tr.old, tr.new) == ("RECOVERING", "RUNNING"):
                restarted.setdefault(tr.actor, tr.actor_name)
        for aid, name in list(restarted.items())[:10]:
            delays = s.monitor.restart_delays(aid)
            self.emit(
                "actor_restart",
                test=test,
                actor=name,
                restarts=len(delays),
                measured_delays_ms=[round(d * 1e3, 2) for d in delays[:5]],
            )
        for f in s.failures[:5]:
            self.emit("actor_failure", test=test, actor=f.ref.name, error=repr(f.error))
        processed = s.tracker.events(None, "processed")
        if processed:
            step = max(1, len(processed) // sample)
            for msg in processed[::step][:sample]:
                self.emit("actor_message_sample", test=test, actor=msg.actor_name, key=str(msg.key))

    def finish(self, out: Outcome, s: ActorSession, test: str) -> None:
        """Emit the session's events and check that only injected failures happened."""
        unexpected = [
            f"{f.ref.name}: {f.error!r}"
            for f in s.failures
            if not (f.escalated or isinstance(f.error, InjectedFailure))
        ]
        out.record(failures_observed=len(s.failures))
        out.expect(not unexpected, "no unexpected actor failures", "; ".join(unexpected[:3]))
        self.emit_session(test, s)

    # -- protocol ------------------------------------------------------------------------------
    async def health_check(self) -> bool:
        """Spawn one actor on the runtime and get an answer back from it."""
        try:
            async with self.session("health") as s:
                ref = await s.system.spawn(Worker, name="health")
                reply = await ref.ask(Probe("health", 0, 42), timeout_s=self.timeout_s)
                return bool(reply == 42)
        except Exception:
            return False

    async def initialize(self) -> None:
        self.emit("actor_target", target=repr(self.target))

    async def shutdown(self) -> None:
        # every session is closed by its own test; nothing long-lived to release here
        await asyncio.sleep(0)

    # -- helpers shared by the test modules ------------------------------------------------
    def supervisor_kwargs(self, **over: Any) -> dict[str, Any]:
        """spawn_supervisor arguments from the config (one_for_one, always), with overrides."""
        kw: dict[str, Any] = {
            "strategy": Strategy.ONE_FOR_ONE,
            "restart": RestartSpec.always(),
            "max_restarts": max(1, self.acfg.max_retries),
            "within_s": self.acfg.restart_window_s,
        }
        kw.update(over)
        return kw

    async def hold(self, out: Outcome, ref: ActorHandle, what: str = "actor") -> Gate:
        """Park ``ref`` inside a handler so its mailbox fills to an exact, known content."""
        gate = Gate()
        await ref.tell(Block(gate))
        entered = await wait_event(gate.entered, self.timeout_s)
        out.require(entered, "message delivery", f"{what} never started handling a message")
        return gate


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
        return True
    except TimeoutError:
        return False


async def try_ask(ref: ActorHandle, msg: Any, timeout_s: float) -> Any:
    """Ask, turning a runtime refusal (stopped, timed out, dropped) into the returned value.

    A broken runtime must produce a FAILED property, not an ERROR: callers compare the value.
    """
    try:
        return await ref.ask(msg, timeout_s=timeout_s)
    except (ActorRuntimeError, TimeoutError) as exc:
        return exc


async def try_tell(ref: ActorHandle, msg: Any) -> bool:
    try:
        return bool(await ref.tell(msg))
    except ActorRuntimeError:
        return False
