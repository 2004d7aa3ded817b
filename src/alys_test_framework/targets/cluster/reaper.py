"""Last-resort teardown of node process groups: no node survives the process that started it.

Layers, from the normal path to the worst case: ``NodeCluster.close()`` (finally / async with),
an ``atexit`` hook (interpreter exit, Ctrl-C), PR_SET_PDEATHSIG on the node (we are SIGKILLed),
and a watchdog process that kills every registered group when our pipe to it closes (reaches
the nodes' own children, which PDEATHSIG does not).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys

LIVE_GROUPS: set[int] = set()

# A watchdog outliving us by a moment: it holds the live process groups and kills them when
# its stdin closes, i.e. when we exit in any way, including SIGKILL, which neither ``finally``
# nor atexit survive (PDEATHSIG covers the node itself, not the node's own children).
_WATCHDOG_SRC = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    op, _, pg = line.strip().partition(" ")
    if op == "add":
        groups.add(int(pg))
    elif op == "del":
        groups.discard(int(pg))
for pg in groups:
    try:
        os.killpg(pg, signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    proc: subprocess.Popen[str] | None = None

    @classmethod
    def track(cls, pgid: int) -> None:
        LIVE_GROUPS.add(pgid)
        if cls.proc is None or cls.proc.poll() is not None:
            cls.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG_SRC],
                stdin=subprocess.PIPE,
                text=True,
                start_new_session=True,  # a Ctrl-C to our terminal must not kill it first
            )
        cls._send(f"add {pgid}")

    @classmethod
    def untrack(cls, pgid: int) -> None:
        LIVE_GROUPS.discard(pgid)
        cls._send(f"del {pgid}")
        if not LIVE_GROUPS and cls.proc is not None:  # nothing to guard: do not linger
            proc, cls.proc = cls.proc, None
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    @classmethod
    def _send(cls, line: str) -> None:
        if cls.proc is not None and cls.proc.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                cls.proc.stdin.write(line + "\n")
                cls.proc.stdin.flush()


def _kill_live_groups() -> None:
    for pgid in list(LIVE_GROUPS):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
        Watchdog.untrack(pgid)


atexit.register(_kill_live_groups)


def die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
