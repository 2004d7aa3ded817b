"""A real `alys-test serve` process on loopback, torn down (with its runs) after the tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alys_test_framework.waiting import wait_until_blocking

REPO = Path(__file__).resolve().parents[2]
READY = re.compile(r"coordinator listening on (http://\S+)")


@dataclass
class Coordinator:
    url: str
    proc: subprocess.Popen[str]
    data_dir: Path
    token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
    ) -> tuple[int, Any, str]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        tok = token if token is not None else self.token
        if tok:
            req.add_header("Authorization", f"Bearer {tok}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, text, ctype = (
                    resp.status,
                    resp.read().decode(),
                    resp.headers.get_content_type(),
                )
        except urllib.error.HTTPError as err:
            status, text, ctype = err.code, err.read().decode(), err.headers.get_content_type()
        doc = json.loads(text) if ctype == "application/json" else text
        return status, doc, ctype

    def wait_finished(self, job_id: str, timeout_s: float = 240) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            _, doc, _ = self.request("GET", f"/test-runs/{job_id}")
            return doc if doc["state"] not in ("queued", "running") else None

        return wait_until_blocking(finished, timeout_s, f"run {job_id} finished")


def start_coordinator(tmp: Path, *args: str, token: str | None = None) -> Coordinator:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp / "xdg")}
    if token:
        env["ALYS_TEST_COORDINATOR_TOKEN"] = token
    proc = subprocess.Popen(
        [sys.executable, "-m", "alys_test_framework.cli", "serve", "--port", "0"]
        + ["--data-dir", str(tmp / "data"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the ready line (or EOF if it died)
    match = READY.search(line)
    if not match:
        proc.kill()
        raise AssertionError(f"coordinator did not start: {line}{proc.stdout.read()}")
    return Coordinator(match.group(1), proc, tmp / "data", token)


def stop_coordinator(c: Coordinator) -> None:
    if c.proc.poll() is None:
        c.proc.send_signal(signal.SIGTERM)
        try:
            c.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory) -> Iterator[Coordinator]:
    tmp = tmp_path_factory.mktemp("coordinator")
    base = tmp / "base.toml"
    # the server's own config may name plugins (a client may not): a slow harness to cancel
    base.write_text('plugins = ["tests.foundation.foundation_fakes:register_slow"]\n')
    c = start_coordinator(tmp, "--config", str(base))
    try:
        yield c
    finally:
        stop_coordinator(c)
