"""Waiting for a real condition: the one ``wait_until`` of the framework, and stall detection.

Rules of this module:
1. A wait polls a real condition (every ``poll_s``, 20 ms by default) until it holds or the
   deadline passes; the condition is what the caller then checks, never the elapsed time.
2. A failed wait raises ``WaitTimeout`` naming what was awaited and the last value observed,
   in the manner of Bitcoin Core's ``wait_until`` printing its predicate: a person reading the
   report must see what the system was doing when it stopped.
3. A wait for progress (``wait_for_progress``) fails as soon as the observed value has not
   moved for ``stall_s`` — a stall is named as a stall, not reported as a timeout minutes later.
4. Predicates may be plain functions or coroutines; exceptions inside them propagate.
5. Long waits say what they wait for: ``wait_for_progress`` reports each new observed value to
   the progress hook of the current context (``progress_reporter``), which a harness sets
   around each test; with no hook nothing is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar, overload

T = TypeVar("T")

DEFAULT_POLL_S = 0.02

ProgressHook = Callable[[str, object], None]
_PROGRESS: ContextVar[ProgressHook | None] = ContextVar("alys_test_progress", default=None)


@contextlib.contextmanager
def progress_reporter(hook: ProgressHook) -> Iterator[None]:
    """Within this block (and the tasks it starts), waits report ``(what, value)`` to ``hook``."""
    token = _PROGRESS.set(hook)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def report_progress(what: str, value: object) -> None:
    hook = _PROGRESS.get()
    if hook is not None:
        hook(what, value)


class WaitTimeout(TimeoutError):
    """A condition did not hold in time; the message names it and its last observed value."""

    def __init__(self, what: str, timeout_s: float, last: object = None) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.last = last
        super().__init__(
            f"timed out after {timeout_s:g} s waiting for {what}; last observed: {last!r}"
        )


class Stalled(WaitTimeout):
    """Nothing progressed for a whole stall window."""

    def __init__(
        self, what: str, stall_s: float, last: object, context: str = "", rule: str = ""
    ) -> None:
        self.stall_s = stall_s
        self.context = context
        self.rule = rule  # the liveness rule the stall breaks (e.g. S4), when the waiter knows
        TimeoutError.__init__(
            self,
            (f"[{rule}] " if rule else "")
            + f"stalled: {what} made no progress for {stall_s:g} s at {last!r}"
            + (f"; {context}" if context else ""),
        )
        self.what = what
        self.timeout_s = stall_s
        self.last = last


async def _call(fn: Callable[[], Any]) -> Any:
    value = fn()
    if inspect.isawaitable(value):
        value = await value
    return value


@overload
async def wait_until(
    predicate: Callable[[], Awaitable[T]],
    timeout_s: float,
    what: str,
    *,
    poll_s: float = ...,
    observe: Callable[[], Any] | None = ...,
) -> T: ...


@overload
async def wait_until(
    predicate: Callable[[], T],
    timeout_s: float,
    what: str,
    *,
    poll_s: float = ...,
    observe: Callable[[], Any] | None = ...,
) -> T: ...


async def wait_until(
    predicate: Callable[[], Any],
    timeout_s: float,
    what: str,
    *,
    poll_s: float = DEFAULT_POLL_S,
    observe: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    ``observe`` (optional) gives the value to show on failure when the predicate's own result
    (often ``False``) says too little, e.g. the current height while waiting for a target one.
    """
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        value = await _call(predicate)
        if value:
            return value
        last = await _call(observe) if observe is not None else value
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout_s, last)
        await asyncio.sleep(poll_s)


def wait_until_blocking(
    predicate: Callable[[], T],
    timeout_s: float,
    what: str,
    *,
    poll_s: float = DEFAULT_POLL_S,
    observe: Callable[[], Any] | None = None,
) -> T:
    """``wait_until`` for synchronous code (threads, plain pytest tests, benchmark scripts)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        last = observe() if observe is not None else value
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout_s, last)
        time.sleep(poll_s)


async def wait_for_progress(
    observe: Callable[[], Any],
    done: Callable[[Any], bool],
    what: str,
    *,
    stall_s: float,
    timeout_s: float | None = None,
    poll_s: float = DEFAULT_POLL_S,
    context: Callable[[], str | Awaitable[str]] | None = None,
    rule: str = "",
) -> Any:
    """Wait until ``done(observe())``, failing fast when the observed value stops changing.

    ``observe`` returns a comparable snapshot (a height, a tuple of heights); any change counts
    as progress and restarts the stall window. ``context`` adds detail to a stall message
    (peers, last requests); ``rule`` names the liveness rule a stall breaks (docs/CHAIN_RULES.md
    S4 for a sync, S5 for convergence), so the failure says which promise was not kept.
    ``timeout_s`` is an outer bound for progress that never ends.
    """
    start = time.monotonic()
    last = await _call(observe)
    last_change = start
    while not done(last):
        await asyncio.sleep(poll_s)
        now = time.monotonic()
        value = await _call(observe)
        if value != last:
            last, last_change = value, now
            report_progress(what, value)
            continue
        if now - last_change >= stall_s:
            detail = await _call(context) if context is not None else ""
            raise Stalled(what, stall_s, last, detail, rule)
        if timeout_s is not None and now - start >= timeout_s:
            raise WaitTimeout(what, timeout_s, last)
    return last
