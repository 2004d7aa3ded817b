"""HistoryRecorder on real reference-node processes: the recorded history of an honest
cluster (sync, SIGKILL, restart) passes every checker, and the same scenario on a node with the
no-durability seeded bug fails the durability checker naming D1/D2, the node and the height."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from alys_test_framework.checkers import CheckerBounds, read_history, run_checkers, violations
from alys_test_framework.events import EventLog
from alys_test_framework.oracles.chain import ChainOracle, OracleSpec
from alys_test_framework.targets.cluster import NodeCluster
from alys_test_framework.targets.cluster.history_recorder import HistoryRecorder
from alys_test_framework.waiting import wait_until

COMMAND = ["{python}", "-m", "alys_node"]


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spec")
    subprocess.run(
        [sys.executable, "-m", "alys_node", "init-spec", "--authorities", "1", "--out", str(out),
         "--checkpoint-interval", "10", "--seed", "recorder-test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out


def _scenario(spec_dir: Path, tmp_path: Path, bug: list[str]) -> Path:
    spec = ["--chain-spec", str(spec_dir / "chain-spec.json")]
    producer = spec + ["--dev", "--authority-key", str(spec_dir / "authority-0.key")] + bug
    path = tmp_path / "history.jsonl"
    events = EventLog()

    async def main() -> None:
        box: dict[str, NodeCluster] = {}
        rec = HistoryRecorder(lambda: box["c"].nodes, path)
        # two ways in: an EventLog's listener, or a tap the cluster emits through
        sink = events if not bug else rec.tap(events)
        async with NodeCluster(COMMAND, workdir=tmp_path / "c", events=sink) as c:
            box["c"] = c
            if not bug:
                rec.listen(events)
            async with rec:
                await c.add_node(producer)
                await c.add_node(spec + ["--verify-workers", "0"])
                await c.connect(1, 0)
                ack = await rec.produce(c.nodes[0], 25)
                await c.wait_heads_in_sync(60, min_height=25)
                await c.kill(0)
                await c.restart(0)
                await c.connect(1, 0)
                await rec.produce(c.nodes[0], 5)

                async def done() -> bool:
                    h = await c.heads()
                    return len(set(h.values())) == 1 and all(
                        isinstance(v, tuple) for v in h.values()
                    )

                if not bug:  # a node that lost its chain may fork off: no convergence promised
                    await wait_until(done, 60, "heads equal after restart")
                await wait_until(lambda: rec.polls > 10, 10, "recorder polled")
                assert ack["height"] == 25

    asyncio.run(main())
    return path


def test_recorded_honest_history_passes_every_checker(spec_dir: Path, tmp_path: Path) -> None:
    path = _scenario(spec_dir, tmp_path, [])
    h = read_history(path)
    kinds = {e["kind"] for e in h.events}
    assert {"block", "block_data", "head", "checkpoints", "peers", "process", "op"} <= kinds
    assert {e["action"] for e in h.kind("process")} >= {"start", "kill", "restart"}
    oracle = ChainOracle(OracleSpec.load(spec_dir / "chain-spec.json"))
    res = run_checkers(h, oracle, CheckerBounds(convergence_s=60, max_peers=25))
    assert violations(res) == [], [str(v) for v in violations(res)]
    final = h.final_state("node-1")
    assert final.head == 30 and len(final.chain) == 31
    json.loads(path.read_text().splitlines()[0])


def test_recorded_no_durability_history_fails_d1_d2(spec_dir: Path, tmp_path: Path) -> None:
    path = _scenario(spec_dir, tmp_path, ["--seeded-bug", "no-durability"])
    h = read_history(path)
    oracle = ChainOracle(OracleSpec.load(spec_dir / "chain-spec.json"))
    vs = run_checkers(h, oracle, CheckerBounds(convergence_s=60))["durability"]
    got = {(v.rule, v.node) for v in vs}
    assert ("D1", "node-0") in got and ("D2", "node-0") in got, [str(v) for v in vs]
    assert any(v.height == 25 for v in vs)
