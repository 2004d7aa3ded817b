"""Helpers for the project's tests (and anyone testing a harness of their own).

``run_harness`` is the one way a test drives a harness through its whole lifecycle, as the
framework does: health check, initialize, the tests, shutdown (also on failure). Afterwards no
process the harness started may be left running: a harness that leaks nodes is broken even if
every verdict was right.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psutil

from .config import TestConfig
from .events import EventLog, EventSink
from .harness.base import HarnessContext, TestHarness
from .results import TestResult
from .waiting import wait_until_blocking

HarnessFactory = Callable[..., Any]

_UNSET: Any = object()


class HarnessUnhealthy(AssertionError):
    """The harness's health check failed: its target could not even be reached."""


class LeftProcesses(AssertionError):
    """The harness left child processes running after shutdown."""


def run_harness(
    harness: HarnessFactory,
    config: TestConfig,
    workdir: Path | None = None,
    *,
    target: Any = _UNSET,
    only: Iterable[str] | None = None,
    events: EventSink | None = None,
    orphan_grace_s: float = 5.0,
) -> list[TestResult]:
    """Run ``harness`` (a harness class or any factory taking a HarnessContext) and return
    its results; ``target`` is passed as the second argument when given, ``only`` selects tests
    by name. Raises ``HarnessUnhealthy`` or ``LeftProcesses`` naming what went wrong."""
    own = workdir is None  # a work dir made here is removed here: nothing left behind
    work = workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="alys-harness-"))
    ctx = HarnessContext(config, events=events or EventLog(), workdir=work)

    async def main() -> list[TestResult]:
        h: TestHarness = harness(ctx) if target is _UNSET else harness(ctx, target)
        try:
            if not await h.health_check():
                raise HarnessUnhealthy(f"{type(h).__name__}: health check failed")
            await h.initialize()
            run_tests = getattr(h, "run_tests", None)
            if only is not None and run_tests is not None:
                return list(await run_tests(only=list(only)))
            return list(await h.run_all_tests())
        finally:
            await h.shutdown()

    try:
        results = asyncio.run(main())
        assert_no_children(orphan_grace_s)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return results


def live_children() -> dict[int, str]:
    """{pid: command line} of every live (non-zombie) descendant of this process."""
    out = {}
    for p in psutil.Process().children(recursive=True):
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out[p.pid] = " ".join(p.cmdline())[:160]
        except psutil.Error:
            continue
    return out


def reap_leftovers(before: Iterable[int] = (), grace_s: float = 5.0) -> list[str]:
    """Children not in ``before`` still alive after ``grace_s`` (those exiting now get the
    time to finish), SIGKILLed so they cannot disturb what runs next; returns their
    descriptions."""
    known = set(before)

    def new() -> dict[int, str]:
        return {pid: cmd for pid, cmd in live_children().items() if pid not in known}

    try:
        wait_until_blocking(lambda: not new(), grace_s, "no child process left", observe=new)
        return []
    except TimeoutError:
        pass
    left = new()
    for pid in left:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            continue
    return [f"{pid} {cmd}" for pid, cmd in sorted(left.items())]


def assert_no_children(grace_s: float = 5.0) -> None:
    """Every child process of this one has exited (after ``grace_s`` for those exiting now)."""
    left = reap_leftovers((), grace_s)
    if left:
        raise LeftProcesses(f"processes left behind (now killed): {left}")
