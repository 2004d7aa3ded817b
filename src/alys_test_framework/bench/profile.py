"""Profiles of a bench run: py-spy flamegraphs of this process and of node processes, and the
top memory allocations (tracemalloc).

py-spy samples from outside the process (no instrumentation, so the figures it profiles are
the figures the table shows); it needs ptrace rights, which root has. Where py-spy is missing
or refused, the profile is reported as unsupported with the reason instead of silently absent.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path


class Profiler:
    def __init__(self, outdir: Path, rate_hz: int = 97) -> None:
        self.outdir = outdir
        self.rate_hz = rate_hz
        self._procs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.results: dict[str, str] = {}

    def _pyspy(self) -> str | None:
        exe = Path(sys.executable).with_name("py-spy")
        return str(exe) if exe.exists() else shutil.which("py-spy")

    def attach(self, label: str, pid: int) -> None:
        """Start a flamegraph recording of ``pid`` until ``stop``."""
        exe = self._pyspy()
        if exe is None:
            self.results[label] = "unsupported: py-spy is not installed (pip install py-spy)"
            return
        out = self.outdir / f"flamegraph-{label}.svg"
        proc = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(self.rate_hz),
                "--output",
                str(out),
                "--format",
                "flamegraph",
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._procs[label] = (proc, out)

    def start(self) -> None:
        tracemalloc.start(10)
        self.attach("framework", os.getpid())

    def stop(self) -> dict[str, str]:
        top = self.outdir / "memory-top.txt"
        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot()
            tracemalloc.stop()
            stats = snap.statistics("lineno")[:25]
            top.write_text("\n".join(str(s) for s in stats) + "\n")
            self.results["memory"] = top.name
        for label, (proc, out) in self._procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if out.exists() and out.stat().st_size > 0:
                self.results[label] = out.name
            else:
                why = (err or b"").decode(errors="replace").strip().splitlines()
                self.results[label] = "unsupported: py-spy wrote no profile" + (
                    f" ({why[-1]})" if why else ""
                )
        self._procs.clear()
        return dict(self.results)
