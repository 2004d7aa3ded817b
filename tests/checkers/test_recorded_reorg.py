"""A real reorg, recorded and judged: two dev producers are partitioned, the one that built the
shorter branch switches to the longer one after the heal (crossing a checkpoint), and the
history shows a reorg the fork-choice, checkpoint and convergence checkers all accept."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from alys_test_framework.checkers import CheckerBounds, run_checkers, violations
from alys_test_framework.events import EventLog
from alys_test_framework.oracles.chain import ChainOracle, OracleSpec
from alys_test_framework.targets.cluster import NodeCluster, Partition
from alys_test_framework.targets.cluster.history_recorder import HistoryRecorder
from alys_test_framework.waiting import wait_until

COMMAND = ["{python}", "-m", "alys_node"]


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reorg-spec")
    subprocess.run(
        [sys.executable, "-m", "alys_node", "init-spec", "--authorities", "2", "--out", str(out),
         "--checkpoint-interval", "10", "--slot-ms", "1000", "--seed", "reorg-test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out


def test_partition_reorg_is_recorded_and_passes_the_checkers(
    spec_dir: Path, tmp_path: Path
) -> None:
    sp = ["--chain-spec", str(spec_dir / "chain-spec.json"), "--verify-workers", "0"]
    events = EventLog()
    path = tmp_path / "history.jsonl"

    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path / "c", events=events) as c:
            rec = HistoryRecorder(c.nodes, path)
            rec.listen(events)
            async with rec:
                for i in (0, 1):
                    await c.add_node(
                        sp + ["--dev", "--authority-key", str(spec_dir / f"authority-{i}.key")]
                    )
                await c.connect(1, 0)
                await rec.produce(c.nodes[0], 5)
                await c.wait_heads_in_sync(60, min_height=5)
                cut = c.proxy.partition(Partition.isolate(2, 1))
                await rec.produce(c.nodes[0], 8)  # 6..13, crosses checkpoint 10
                await rec.produce(c.nodes[1], 3)  # its own 6..8
                c.proxy.clear(cut)
                await c.wait_heads_in_sync(60, min_height=13)

                def reorged() -> bool:
                    return any(e["kind"] == "reorg" for e in rec.writer.events)

                await wait_until(reorged, 10, "the recorder saw node-1's reorg")

    asyncio.run(main())
    from alys_test_framework.checkers import read_history

    h = read_history(path)
    (reorg,) = [e for e in h.kind("reorg") if e["node"] == "node-1"]
    assert (reorg["ancestor"], reorg["old_height"]) == (5, 8) and reorg["new_height"] > 8
    oracle = ChainOracle(OracleSpec.load(spec_dir / "chain-spec.json"))
    res = run_checkers(h, oracle, CheckerBounds(convergence_s=60))
    assert violations(res) == [], [str(v) for v in violations(res)]
    cps = h.of_node("node-1", "checkpoints")[-1]["checkpoints"]
    assert [c["hash"] for c in cps] == [h.final_state("node-0").chain[10]]
