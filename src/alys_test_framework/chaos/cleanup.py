"""The clean-up journal: every kernel resource a chaos run creates is written down *before* it
is created, with how to undo it, so nothing outlives the run — not on Ctrl-C, not on SIGTERM,
not when the framework itself is SIGKILLed.

Rules:
1. ``record`` appends ``{"id", "kind", "undo"}`` and fsyncs before the caller creates the
   resource; ``release`` undoes it and appends ``{"id", "done": true}``. An undo of something
   that was never created is harmless (every undo tolerates "not there").
2. Kinds and their undo: ``mount`` (lazy umount of the path), ``cgroup`` (move its tasks to the
   controller's root, then rmdir), ``pgroup`` (SIGKILL the process group), ``file`` (unlink),
   ``netns`` (ip netns delete), ``nft`` (nft delete table), ``qdisc`` (tc qdisc del).
3. Three replayers: ``close()`` on the normal path and in ``atexit``; a watchdog process that
   replays the journal when its stdin (our pipe) closes, i.e. when we die in any way; and
   ``replay_stale()`` at the start of the next run for journals whose owner pid is gone.
4. Journals live in ``journal_dir()`` (``ALYS_CHAOS_JOURNAL_DIR`` or a fixed temp dir), one file
   per run, removed once fully replayed.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CGROUP_ROOT = Path("/sys/fs/cgroup")


def journal_dir() -> Path:
    d = Path(os.environ.get("ALYS_CHAOS_JOURNAL_DIR") or Path(tempfile.gettempdir()) / "alys-chaos")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _quiet(argv: list[str]) -> None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20,
                       check=False)  # fmt: skip


def mounted(path: str) -> bool:
    """From the mount table, not ``os.path.ismount``: the mount of a FUSE daemon that died
    cannot be stat'ed (ENOTCONN), so ismount says False while it is still mounted."""
    want = os.path.abspath(path)
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            return any(line.split()[1].replace("\\040", " ") == want for line in fh)
    except OSError:
        return os.path.ismount(want)


def undo(entry: dict[str, Any]) -> None:
    """Undo one resource; never raises (a resource already gone is the goal reached)."""
    kind, u = entry.get("kind"), entry.get("undo", {})
    try:
        if kind == "pgroup":
            with contextlib.suppress(OSError):
                os.killpg(int(u["pgid"]), signal.SIGKILL)
        elif kind == "mount":
            mpath = str(u["path"])
            for _ in range(3):
                if not mounted(mpath):
                    break
                _quiet(["umount", "-l", mpath])
            if u.get("rmdir"):
                shutil.rmtree(mpath, ignore_errors=True)
        elif kind == "cgroup":
            path = Path(u["path"])
            root = path.parent
            while root.parent != CGROUP_ROOT and root != CGROUP_ROOT:
                root = root.parent
            for _ in range(20):
                if not path.exists():
                    break
                with contextlib.suppress(OSError):
                    for pid in (path / "cgroup.procs").read_text().split():
                        with contextlib.suppress(OSError):
                            (root / "cgroup.procs").write_text(pid)
                with contextlib.suppress(OSError):
                    path.rmdir()
                    break
                time.sleep(0.05)
        elif kind == "file":
            with contextlib.suppress(OSError):
                os.unlink(str(u["path"]))
        elif kind == "netns":
            _quiet(["ip", "netns", "delete", str(u["name"])])
        elif kind == "nft":
            _quiet(["nft", "delete", "table", str(u.get("family", "inet")), str(u["table"])])
        elif kind == "qdisc":
            argv = ["tc", "qdisc", "del", "dev", str(u["dev"]), "root"]
            if u.get("netns"):
                argv = ["ip", "netns", "exec", str(u["netns"]), *argv]
            _quiet(argv)
    except Exception:  # noqa: BLE001 - a replayer must get through every entry
        pass


def pending(path: Path) -> list[dict[str, Any]]:
    """Entries of a journal not marked done, newest first (undo in reverse order)."""
    entries: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        with contextlib.suppress(ValueError):
            e = json.loads(line)
            if e.get("done"):
                entries.pop(e["id"], None)
            elif "kind" in e:
                entries[e["id"]] = e
                order.append(e["id"])
    return [entries[i] for i in reversed(order) if i in entries]


def replay(path: Path) -> int:
    """Undo everything still pending in ``path``, then remove it; returns entries undone."""
    todo = pending(path)
    for e in todo:
        undo(e)
    with contextlib.suppress(OSError):
        path.unlink()
    return len(todo)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def replay_stale(directory: Path | None = None) -> int:
    """Replay journals left by runs whose process is gone (a crash the watchdog missed)."""
    n = 0
    for p in sorted((directory or journal_dir()).glob("run-*.jsonl")):
        try:
            pid = int(p.stem.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            n += replay(p)
    return n


_WATCH_SRC = (
    "import sys, pathlib; from alys_test_framework.chaos.cleanup import _watch; "
    "_watch(pathlib.Path(sys.argv[1]))"
)


class CleanupJournal:
    """One run's journal, its watchdog and its atexit hook; see module docstring."""

    def __init__(self, directory: Path | None = None, watchdog: bool = True) -> None:
        self.dir = directory or journal_dir()
        self.path = self.dir / f"run-{os.getpid()}-{int(time.time() * 1000)}.jsonl"
        self._lock = threading.Lock()
        self._ids = 0
        self._live: dict[str, dict[str, Any]] = {}
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._watchdog: subprocess.Popen[bytes] | None = None
        if watchdog:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", _WATCH_SRC, str(self.path)],
                stdin=subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
        atexit.register(self.close)

    def record(self, kind: str, **undo_args: Any) -> str:
        with self._lock:
            self._ids += 1
            rid = f"{kind}-{self._ids}"
            entry = {"id": rid, "kind": kind, "undo": undo_args, "t": time.time()}
            self._live[rid] = entry
            self._fh.write(json.dumps(entry) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        return rid

    def release(self, rid: str) -> None:
        """Undo the resource now and mark it done."""
        entry = self._live.pop(rid, None)
        if entry is None:
            return
        undo(entry)
        self.forget(rid)

    def forget(self, rid: str) -> None:
        """Mark done without undoing (the owner removed it itself)."""
        self._live.pop(rid, None)
        with self._lock:
            if not self._fh.closed:
                self._fh.write(json.dumps({"id": rid, "done": True}) + "\n")
                self._fh.flush()

    @property
    def live(self) -> list[dict[str, Any]]:
        return list(self._live.values())

    def close(self) -> None:
        """Undo everything still live (newest first), remove the journal, stop the watchdog."""
        for rid in list(reversed(list(self._live))):
            self.release(rid)
        with self._lock:
            if not self._fh.closed:
                self._fh.close()
        if not pending(self.path):
            with contextlib.suppress(OSError):
                self.path.unlink()
        wd, self._watchdog = self._watchdog, None
        if wd is not None:
            with contextlib.suppress(OSError, ValueError):
                wd.stdin.close()  # type: ignore[union-attr]
            with contextlib.suppress(subprocess.TimeoutExpired):
                wd.wait(timeout=30)
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)


def _watch(path: Path) -> None:
    """Watchdog body: wait for our parent's pipe to close, then replay its journal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C must not kill the replayer first
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    if path.exists():
        replay(path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--watch":
        _watch(Path(sys.argv[2]))
    elif len(sys.argv) == 2 and sys.argv[1] == "--replay-stale":
        print(f"undid {replay_stale()} resources of dead chaos runs")
    else:
        print("usage: python -m alys_test_framework.chaos.cleanup --replay-stale", file=sys.stderr)
        sys.exit(2)
