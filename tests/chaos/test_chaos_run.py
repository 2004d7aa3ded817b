"""End to end on real reference-node processes: a short honest chaos run passes with every
fault's effect measured; the same run on a node with the no-durability seeded bug fails, the
durability checker naming D1/D2 and the node. The done-when run (``alys-test chaos --duration
120 --seed 1``, every type) runs when ALYS_CHAOS_FULL=1 (about 3.5 min on 2 loaded cores)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alys_test_framework.chaos import (
    ChaosEventType,
    ChaosReport,
    ChaosRun,
    ChaosSettings,
    format_schedule,
)
from alys_test_framework.chaos.cleanup import CGROUP_ROOT

T = ChaosEventType
NODE = ["{python}", "-m", "alys_node"]


def _run(tmp_path: Path, types: tuple[ChaosEventType, ...], duration: float, bug: list[str],
         seed: int = 1) -> ChaosReport:  # fmt: skip
    import asyncio

    s = ChaosSettings(seed=seed, duration_s=duration, allowed=types, node_command=NODE + bug,
                      event_frequency=1.0, recovery_timeout_s=20.0)  # fmt: skip
    return asyncio.run(ChaosRun(s, tmp_path / "w", log=lambda *_: None).run())


def _nothing_left(pid: int) -> None:
    for c in ("memory", "cpu", "blkio"):
        assert not (CGROUP_ROOT / c / f"alys-chaos-{pid}").exists()
    with open("/proc/mounts") as fh:
        assert not [line for line in fh if "/w/cluster/node-0" in line]


@pytest.mark.slow  # a whole honest chaos run; the broken-target run below stays default
def test_short_honest_chaos_run_passes(tmp_path: Path) -> None:
    types = (T.PROCESS_CRASH, T.NETWORK_LATENCY_INJECTION, T.DISK_SPACE_EXHAUSTION)
    r = _run(tmp_path, types, 14.0, [])
    d = r.to_json()
    assert r.passed, d["failures"]
    assert {e["type"] for e in d["timeline"]} == {t.value for t in types}
    assert all(e["status"] == "passed" and e["effect"] for e in d["timeline"])
    lat = next(e for e in d["timeline"] if e["type"] == "NetworkLatencyInjection")
    assert lat["effect"]["added_ms"] >= 0.5 * 150
    disk = next(e for e in d["timeline"] if e["type"] == "DiskSpaceExhaustion")
    assert "disk full" in disk["effect"]["first_error"]
    assert d["availability"] < 1.0 and d["mttr_s"] is not None and d["resilience_score"] > 0
    assert [p["phase"] for p in d["phases"]] == [
        "Initializing", "PreChaosHealthCheck", "ChaosInjection", "RecoveryValidation",
        "PostChaosHealthCheck", "Completed",
    ]  # fmt: skip
    _nothing_left(os.getpid())


def test_no_durability_bug_fails_naming_the_checker_and_rule(tmp_path: Path) -> None:
    r = _run(tmp_path, (T.PROCESS_CRASH,), 8.0, ["--seeded-bug", "no-durability"])
    d = r.to_json()
    assert not r.passed
    got = {(f["checker"], f["rule"]) for f in d["failed_checkers"]}
    assert got & {("durability", "D1"), ("durability", "D2")}, d["failures"]
    assert any(line.startswith("checker durability: [D") for line in r.failures())
    assert d["resilience_score"] == 0.0


@pytest.mark.skipif(not os.environ.get("ALYS_CHAOS_FULL"), reason="set ALYS_CHAOS_FULL=1")
def test_full_schedule_seed_1_every_type(tmp_path: Path) -> None:
    r = _run(tmp_path, tuple(T), 120.0, [])
    d = r.to_json()
    assert {e["type"] for e in d["timeline"]} == {t.value for t in T}
    assert r.passed, d["failures"]
    again = ChaosSettings(seed=1, duration_s=120.0, event_frequency=1.0).schedule()
    assert d["schedule"] == format_schedule(again)  # same seed, same schedule
