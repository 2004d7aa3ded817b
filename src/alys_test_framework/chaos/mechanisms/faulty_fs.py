"""A FUSE passthrough that fails a share of reads and writes with EIO, for DiskFailure.

The node's datadir is this mount (over a backing directory) from launch; the daemon runs as
its own process (``python -m alys_test_framework.chaos.mechanisms.faulty_fs BACKING MOUNT
CTL``), and passes every operation through until the control file says otherwise.

Rules:
1. ``CTL`` is JSON ``{"write": p, "read": q, "seed": s}``, re-read every ``CTL_POLL_S``: each
   write (write, fsync, truncate) fails with EIO with probability p, each read with q, drawn
   from ``random.Random(seed)``; p = q = 0 is a faithful passthrough.
2. The daemon writes its counters to ``CTL + ".stats"`` (JSON: ops seen and EIO injected, by
   kind) with each control poll: the mechanism reads the injected errors back from there.
3. The mount is recorded in the clean-up journal before it exists (lazy unmount) and the
   daemon's process group after it starts, so it is unmounted on every exit path.
"""

from __future__ import annotations

import errno
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

CTL_POLL_S = 0.1


def binding_unavailable() -> str | None:
    """None if fusepy and libfuse load here and /dev/fuse exists; else what to install."""
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse on this machine (FUSE passthrough for read/write errors)"
    try:
        import fuse  # type: ignore[import-untyped]  # noqa: F401  # fusepy
    except (ImportError, OSError) as exc:
        return (f"FUSE binding not loadable ({type(exc).__name__}: {exc}): "
                "pip install fusepy; apt-get install libfuse2")  # fmt: skip
    return None


def _daemon(backing: str, mount: str, ctl: str) -> None:
    from fuse import FUSE, FuseOSError, Operations

    state: dict[str, Any] = {"write": 0.0, "read": 0.0, "rng": random.Random(0), "mtime": 0.0}
    stats = {"writes": 0, "reads": 0, "write_errors": 0, "read_errors": 0}
    lock = threading.Lock()

    def poll() -> None:
        while True:
            try:
                m = os.stat(ctl).st_mtime
                if m != state["mtime"]:
                    d = json.loads(Path(ctl).read_text() or "{}")
                    with lock:
                        state.update(write=float(d.get("write", 0)), read=float(d.get("read", 0)),
                                     rng=random.Random(d.get("seed", 0)), mtime=m)  # fmt: skip
            except (OSError, ValueError):
                pass
            with lock:
                snap = {**stats, "write_p": state["write"], "read_p": state["read"]}
            tmp = ctl + ".stats.tmp"
            try:
                Path(tmp).write_text(json.dumps(snap))
                os.replace(tmp, ctl + ".stats")
            except OSError:
                pass
            time.sleep(CTL_POLL_S)

    def fail(kind: str) -> None:
        with lock:
            stats[kind + "s"] += 1
            if state[kind] > 0 and state["rng"].random() < state[kind]:
                stats[kind + "_errors"] += 1
                raise FuseOSError(errno.EIO)

    class Passthrough(Operations):
        def _p(self, path: str) -> str:
            return os.path.join(backing, path.lstrip("/"))

        def access(self, path: str, mode: int) -> None:
            if not os.access(self._p(path), mode):
                raise FuseOSError(errno.EACCES)

        def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
            st = os.lstat(self._p(path))
            keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink",
                    "st_size", "st_uid")  # fmt: skip
            return {k: getattr(st, k) for k in keys}

        def readdir(self, path: str, fh: int) -> list[str]:
            return [".", "..", *os.listdir(self._p(path))]

        def statfs(self, path: str) -> dict[str, Any]:
            sv = os.statvfs(self._p(path))
            keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                    "f_files", "f_flag", "f_frsize", "f_namemax")  # fmt: skip
            return {k: getattr(sv, k) for k in keys}

        def chmod(self, path: str, mode: int) -> None:
            os.chmod(self._p(path), mode)

        def chown(self, path: str, uid: int, gid: int) -> None:
            os.chown(self._p(path), uid, gid)

        def utimens(self, path: str, times: Any = None) -> None:
            os.utime(self._p(path), times)

        def mkdir(self, path: str, mode: int) -> None:
            os.mkdir(self._p(path), mode)

        def rmdir(self, path: str) -> None:
            os.rmdir(self._p(path))

        def unlink(self, path: str) -> None:
            os.unlink(self._p(path))

        def rename(self, old: str, new: str) -> None:
            os.rename(self._p(old), self._p(new))

        def open(self, path: str, flags: int) -> int:
            return os.open(self._p(path), flags)

        def create(self, path: str, mode: int, fi: Any = None) -> int:
            return os.open(self._p(path), os.O_RDWR | os.O_CREAT, mode)

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            fail("read")
            return os.pread(fh, size, offset)

        def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
            fail("write")
            return os.pwrite(fh, data, offset)

        def truncate(self, path: str, length: int, fh: int | None = None) -> None:
            fail("write")
            if fh is not None:
                os.ftruncate(fh, length)
            else:
                os.truncate(self._p(path), length)

        def flush(self, path: str, fh: int) -> None:
            return None

        def fsync(self, path: str, datasync: int, fh: int) -> None:
            fail("write")
            os.fdatasync(fh) if datasync else os.fsync(fh)

        def release(self, path: str, fh: int) -> None:
            os.close(fh)

    threading.Thread(target=poll, daemon=True).start()
    FUSE(Passthrough(), mount, foreground=True, nothreads=False, allow_other=False)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: python -m alys_test_framework.chaos.mechanisms.faulty_fs BACKING MOUNT CTL",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    _daemon(*sys.argv[1:4])
