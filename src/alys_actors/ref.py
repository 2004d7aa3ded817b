"""ActorRef: the stable handle of an actor, and the public way to talk to it.

A restart swaps the instance behind the same ref, so holders of a ref (routers, registries, the
harness) keep working across failures. tell/tell_nowait/ask inline the base Mailbox's put for the
common case (room available) and fall back to Mailbox.put_nowait/put for overflow policies and for
pluggable mailbox subclasses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .cell import ActorCell
from .errors import ActorStopped, AskTimeout, MailboxFull
from .lifecycle import LifecycleState
from .mailbox import ACCEPTED, Mailbox, Priority, PutResult
from .stats import ActorStats

if TYPE_CHECKING:
    from .actor import Actor
    from .signals import ChildKind
    from .system import ActorSystem

_S = LifecycleState
_NORMAL = Priority.NORMAL


def _expire(fut: asyncio.Future, ref: ActorRef, msg: Any, timeout: float) -> None:
    if not fut.done():
        fut.set_exception(
            AskTimeout(
                f"ask to actor {ref.label} timed out after {timeout:g}s waiting for a reply to "
                f"{type(msg).__name__}"
            )
        )


class ActorRef(ActorCell):
    """Handle to one actor: send with tell/tell_nowait/ask; read state and stats."""

    def __init__(
        self,
        system: ActorSystem,
        factory: Callable[[], Actor],
        instance: Actor,
        name: str | None,
        mailbox: Mailbox,
        kind: ChildKind,
        parent: ActorRef | None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.id: int = system._next_id()
        self.name: str | None = name
        self.system = system
        self.kind = kind
        self.tags = tags
        self.spec_name: str | None = None  # the ChildSpec name when supervised
        self.stats = ActorStats()
        self.stats._mb = mailbox
        self._factory = factory
        self._instance: Actor = instance
        self._mailbox = mailbox
        self._parent = parent
        self._state = _S.UNINITIALIZED
        self._task: asyncio.Task | None = None
        self._accepting = True  # False once a final stop/kill begins
        self._halt = False  # loop exits after the current message (restart, self-stop)
        self._draining = False  # loop exits once the mailbox is empty (graceful stop)
        self._self_stop: str | None = None  # reason of a stop requested from inside a handler
        self._self_stop_final = False
        self._incarnation = 0
        self._internal = False  # root guardian: no lifecycle notifications
        self._stopping: asyncio.Future | None = None
        self._busy: asyncio.Future | None = None  # pending while on_start/post_restart run
        # the base Mailbox's put is inlined into tell/ask; subclasses go through put_nowait
        self._hooks = system._hooks  # same list object: add/remove_message_hook mutate it
        self._inline_put = type(mailbox).put_nowait is Mailbox.put_nowait

    # -- public surface ------------------------------------------------------------------
    @property
    def state(self) -> LifecycleState:
        return self._state

    @property
    def is_alive(self) -> bool:
        return self._accepting and self._state is not _S.STOPPED

    @property
    def mailbox(self) -> Mailbox:
        return self._mailbox

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label} {self._state.value}>"

    def tell_nowait(self, msg: Any, priority: Priority = _NORMAL) -> bool:
        """Enqueue without waiting. False if THIS message was dropped by a drop policy.

        Raises MailboxFull when full under BACKPRESSURE (cannot wait) or REJECT, and
        ActorStopped when the actor is stopping or stopped.
        """
        if priority.__class__ is not Priority:
            priority = Priority(priority)
        if not self._accepting:
            self._refuse_stopped(msg, priority)
        mb = self._mailbox
        if self._inline_put and mb._size < mb.capacity:
            mb._queues[priority].append((msg, None, priority))
            mb._size += 1
            g = mb._getter
            if g is not None:
                mb._getter = None
                if not g.done():
                    g.set_result(None)
            self.stats.received += 1
            if self._hooks:
                self.system._run_hooks("enqueued", self, msg, priority)
            return True
        res = mb.put_nowait((msg, None, priority), priority)
        if res is ACCEPTED:
            self.stats.received += 1
            if self._hooks:
                self.system._run_hooks("enqueued", self, msg, priority)
            return True
        return self._after_put(res, msg, None, priority)

    async def tell(self, msg: Any, priority: Priority = _NORMAL) -> bool:
        """Enqueue; under BACKPRESSURE wait for room. False if THIS message was dropped."""
        if priority.__class__ is not Priority:
            priority = Priority(priority)
        if not self._accepting:
            self._refuse_stopped(msg, priority)
        mb = self._mailbox
        if self._inline_put and mb._size < mb.capacity:
            mb._queues[priority].append((msg, None, priority))
            mb._size += 1
            g = mb._getter
            if g is not None:
                mb._getter = None
                if not g.done():
                    g.set_result(None)
            self.stats.received += 1
            if self._hooks:
                self.system._run_hooks("enqueued", self, msg, priority)
            return True
        env = (msg, None, priority)
        res = mb.put_nowait(env, priority)
        if res is ACCEPTED:
            self.stats.received += 1
            if self._hooks:
                self.system._run_hooks("enqueued", self, msg, priority)
            return True
        if not res.accepted and res.reason == "full":
            res = await self._put_waiting(env, msg, priority)
        return self._after_put(res, msg, None, priority)

    async def ask(
        self,
        msg: Any,
        timeout: float | None = None,  # noqa: ASYNC109
        priority: Priority = _NORMAL,
    ) -> Any:
        """Send msg and return the handler's return value (its exception is re-raised here)."""
        if priority.__class__ is not Priority:
            priority = Priority(priority)
        if not self._accepting:
            self._refuse_stopped(msg, priority)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        env = (msg, fut, priority)
        mb = self._mailbox
        if self._inline_put and mb._size < mb.capacity:
            mb._queues[priority].append(env)
            mb._size += 1
            g = mb._getter
            if g is not None:
                mb._getter = None
                if not g.done():
                    g.set_result(None)
            res = ACCEPTED
        else:
            res = mb.put_nowait(env, priority)
        if res is ACCEPTED:
            self.stats.received += 1
            if self._hooks:
                self.system._run_hooks("enqueued", self, msg, priority)
        else:
            if not res.accepted and res.reason == "full":
                res = await self._put_waiting(env, msg, priority)
            if not self._after_put(res, msg, fut, priority):
                raise MailboxFull(
                    f"ask to actor {self.label} dropped: mailbox full ({res.reason}) for "
                    f"{type(msg).__name__}"
                )
        if timeout is None:
            return await fut
        handle = loop.call_later(timeout, _expire, fut, self, msg, timeout)
        try:
            return await fut
        finally:
            handle.cancel()

    # -- put slow paths ------------------------------------------------------------------
    def _refuse_stopped(self, msg: Any, priority: Priority) -> None:
        self.system.dead_letters.publish(msg, self, "actor_stopped", priority)
        raise ActorStopped(
            f"actor {self.label} is {self._state.value}; cannot deliver {type(msg).__name__}"
        )

    async def _put_waiting(self, env: tuple, msg: Any, priority: Priority) -> PutResult:
        try:
            return await self._mailbox.put(env, priority)
        except ActorStopped:
            self._refuse_stopped(msg, priority)
            raise  # pragma: no cover - _refuse_stopped always raises

    def _after_put(
        self, res: PutResult, msg: Any, fut: asyncio.Future | None, prio: Priority
    ) -> bool:
        system = self.system
        if res.accepted:
            self.stats.received += 1
            if res.reason is not None:  # another message was evicted to make room
                self.stats.dropped += 1
                emsg, efut, eprio = res.evicted
                system.dead_letters.publish(emsg, self, res.reason, eprio)
                if efut is not None and not efut.done():
                    efut.set_exception(
                        MailboxFull(
                            f"message {type(emsg).__name__} to actor {self.label} {res.reason}"
                        )
                    )
            if system._hooks:
                system._run_hooks("enqueued", self, msg, prio)
            return True
        self.stats.dropped += 1
        reason = "rejected" if res.reason in ("full", "rejected") else res.reason
        system.dead_letters.publish(msg, self, reason or "dropped", prio)
        if reason == "rejected":
            raise MailboxFull(
                f"mailbox of actor {self.label} is full ({self._mailbox.capacity} messages, policy "
                f"{self._mailbox.policy.value}); {type(msg).__name__} rejected"
            )
        return False
