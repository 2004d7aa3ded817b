"""Protocol handles over ``alys_actors`` refs, and the error translation around every call.

One handle per runtime ref (a ``HandleTable`` per system), so a ref the runtime hands back in a
hook, a lookup or a ``Terminated`` notice is the very handle the harness spawned: identity
checks in the harness stay meaningful.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import alys_actors as aa

from . import protocol as p

_PRIO = tuple(aa.Priority(int(x)) for x in p.Priority)


def native_priority(priority: p.Priority) -> aa.Priority:
    return _PRIO[priority]


@contextmanager
def translated() -> Iterator[None]:
    """Runtime refusals become the protocol's errors; behaviour exceptions pass unchanged."""
    try:
        yield
    except aa.AskTimeout as exc:
        raise p.AskTimeout(str(exc)) from exc
    except aa.MailboxFull as exc:
        raise p.MailboxFull(str(exc)) from exc
    except aa.ActorStopped as exc:
        raise p.ActorStopped(str(exc)) from exc
    except aa.ActorError as exc:
        raise p.ActorRuntimeError(f"{type(exc).__name__}: {exc}") from exc


class _Stats:
    def __init__(self, native: aa.ActorStats) -> None:
        self._n = native

    @property
    def processed(self) -> int:
        return self._n.processed

    @property
    def restarts(self) -> int:
        return self._n.restarts

    @property
    def dropped(self) -> int:
        return self._n.dropped

    def handler_latency_s(self, percentile: float) -> float:
        return self._n.handler_latency.percentile(percentile)


class AlysHandle:
    __slots__ = ("native", "table", "_stats")

    def __init__(self, native: aa.ActorRef, table: HandleTable) -> None:
        self.native = native
        self.table = table
        self._stats = _Stats(native.stats)

    @property
    def id(self) -> int:
        return self.native.id

    @property
    def name(self) -> str:
        return self.native.name or f"actor-{self.native.id}"

    @property
    def state(self) -> str:
        return self.native.state.name

    @property
    def is_alive(self) -> bool:
        return self.native.is_alive

    @property
    def mailbox_depth(self) -> int:
        return self.native.stats.mailbox_depth

    @property
    def stats(self) -> p.ActorStats:
        return self._stats

    async def tell(self, msg: Any, priority: p.Priority = p.Priority.NORMAL) -> bool:
        try:
            return await self.native.tell(msg, _PRIO[priority])
        except aa.ActorError:
            with translated():
                raise

    def tell_nowait(self, msg: Any, priority: p.Priority = p.Priority.NORMAL) -> bool:
        try:
            return self.native.tell_nowait(msg, _PRIO[priority])
        except aa.ActorError:
            with translated():
                raise

    async def ask(
        self, msg: Any, timeout_s: float | None = None, priority: p.Priority = p.Priority.NORMAL
    ) -> Any:
        try:
            return await self.native.ask(msg, timeout=timeout_s, priority=_PRIO[priority])
        except aa.ActorError:
            with translated():
                raise

    def __repr__(self) -> str:
        return f"<handle {self.name} {self.state}>"


class AlysSupervisor(AlysHandle):
    __slots__ = ()

    def _sup(self) -> aa.SupervisorRef:
        native = self.native
        assert isinstance(native, aa.SupervisorRef)
        return native

    def child(self, name: str) -> p.ActorHandle:
        return self.table.wrap(self._sup().child(name))

    def children(self) -> list[p.ActorHandle]:
        return [self.table.wrap(c) for c in self._sup().children()]

    @property
    def restart_log(self) -> list[p.RestartRecord]:
        return [p.RestartRecord(r.child, r.delay_s) for r in self._sup().restart_log]


class HandleTable:
    """runtime ref id -> its one handle."""

    def __init__(self) -> None:
        self._by_id: dict[int, AlysHandle] = {}

    def wrap(self, ref: aa.ActorRef) -> AlysHandle:
        handle = self._by_id.get(ref.id)
        if handle is None or handle.native is not ref:
            cls = AlysSupervisor if isinstance(ref, aa.SupervisorRef) else AlysHandle
            handle = self._by_id[ref.id] = cls(ref, self)
        return handle

    def native(self, handle: p.ActorHandle) -> aa.ActorRef:
        if not isinstance(handle, AlysHandle):
            raise TypeError(f"{handle!r} is not an alys_actors handle")
        return handle.native
