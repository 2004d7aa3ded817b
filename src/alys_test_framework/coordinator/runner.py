"""One run = one `alys-test run` subprocess in its own process group.

Why a subprocess: a run owns signal handlers, an event loop, worker threads and node processes;
isolating it means a cancel is the same SIGTERM a CI runner sends (partial report.json,
junit.xml and events.jsonl are written, nodes stopped by the run's own teardown), and whatever
is left of the process group afterwards is killed, so a cancel leaves no process behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from ..config import TestConfig

CANCEL_GRACE_S = 30.0


class RunProcess:
    def __init__(self, job_dir: Path, config: TestConfig, phases: list[str]) -> None:
        self.job_dir = job_dir
        self.report_dir = job_dir / "report"
        self.config_file = job_dir / "config.toml"
        self.log_file = job_dir / "output.log"
        self.config = config
        self.phases = phases
        self.proc: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "alys_test_framework.cli", "run", "--config"]
        cmd += [str(self.config_file), "--report-dir", str(self.report_dir), "-q"]
        for phase in self.phases:
            cmd += ["--phase", phase]
        return cmd

    async def start(self) -> None:
        self.job_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.config.to_toml())
        log = self.log_file.open("ab")  # handed to the child; ours is closed below
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: cancel reaches every child
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()

    async def wait(self) -> int:
        assert self.proc is not None
        rc = await self.proc.wait()
        self._kill_group()  # nodes or helpers a crashed run left behind
        return rc

    def terminate(self) -> None:
        """Ask the run to stop as CI does (SIGTERM): it writes its partial reports."""
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    async def cancel(self, grace_s: float = CANCEL_GRACE_S) -> int:
        self.terminate()
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.wait(), timeout=grace_s)
        except TimeoutError:
            self._kill_group()
            return await self.proc.wait()

    def _kill_group(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
