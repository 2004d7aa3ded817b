"""A stateful test against a live cluster: Hypothesis picks client operations and faults
(produce, partition a link, slow a link, cut connections, restart a follower, heal), a
HistoryRecorder records every step, and the invariants are the cluster checkers — chain
validity by the oracle, durability (D1/D2), checkpoints (K1–K3), fork choice and convergence
(S5) — judged on the recorded history after the faults healed.

Bounded on purpose (a few short runs on three nodes): each run starts real processes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from alys_test_framework.checkers import CheckerBounds, read_history, run_checkers, violations
from alys_test_framework.events import EventLog
from alys_test_framework.oracles.chain import ChainOracle, OracleSpec
from alys_test_framework.pytest_plugin import LoopThread
from alys_test_framework.targets.cluster import NodeCluster
from alys_test_framework.targets.cluster.history_recorder import HistoryRecorder

COMMAND = ["{python}", "-m", "alys_node"]
NODES = 3
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spec")
    subprocess.run(
        [sys.executable, "-m", "alys_node", "init-spec", "--authorities", "1", "--out", str(out),
         "--checkpoint-interval", "5", "--seed", "stateful"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out


def machine_for(spec_dir: Path, root: Path) -> type[RuleBasedStateMachine]:
    spec = ["--chain-spec", str(spec_dir / "chain-spec.json")]
    producer = [*spec, "--dev", "--authority-key", str(spec_dir / "authority-0.key")]
    runs = iter(range(1000))

    class ClusterMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = LoopThread("alys-stateful")
            self.work = root / f"run-{next(runs)}"
            self.events = EventLog()
            self.cluster = NodeCluster(COMMAND, workdir=self.work / "c", events=self.events)
            self.rec = HistoryRecorder(lambda: self.cluster.nodes, self.work / "history.jsonl")
            self.rec.listen(self.events)
            self.faults: list[Any] = []
            self.acked = 0
            self.recorded = False  # the recorder was stopped (its history is final)

        def run(self, aw: Any, timeout_s: float = 120) -> Any:
            return self.loop.run(aw, timeout_s)

        @initialize()
        def start(self) -> None:
            async def up() -> None:
                await self.rec.start()
                await self.cluster.add_node(producer)
                for _ in range(NODES - 1):
                    await self.cluster.add_node(spec)
                await self.cluster.connect_full_mesh()

            self.run(up(), 180)

        # -- client operations ------------------------------------------------------------
        @rule(n=st.integers(1, 6))
        def produce(self, n: int) -> None:
            ack = self.run(self.rec.produce(self.cluster.nodes[0], n))
            self.acked = int(ack["height"])

        # -- faults (every one recorded in the history) -----------------------------------
        @rule(a=st.integers(0, NODES - 1), b=st.integers(0, NODES - 1),
              kind=st.sampled_from(["partition", "delay", "disconnection"]))  # fmt: skip
        def fault(self, a: int, b: int, kind: str) -> None:
            if a == b:
                return
            proxy = self.cluster.proxy
            assert proxy is not None
            params: dict[str, Any] = {
                "partition": {"partitioned": True},
                "delay": {"latency_ms": 80.0},
                "disconnection": {"partitioned": True, "partition_mode": "close"},
            }[kind]
            self.faults.append(proxy.apply(proxy.symmetric(a, b), kind=kind, **params))
            self.rec.fault("apply", kind, pairs=[[a, b], [b, a]], **params)

        @precondition(lambda self: bool(self.faults))
        @rule()
        def heal(self) -> None:
            assert self.cluster.proxy is not None
            self.cluster.proxy.clear_all()
            self.faults.clear()
            self.rec.fault("clear", "all")

        @rule(i=st.integers(1, NODES - 1))
        def restart_follower(self, i: int) -> None:
            async def again() -> None:
                await self.cluster.restart(i)
                for j in range(NODES):
                    if j != i:
                        await self.cluster.connect(i, j)

            self.run(again())

        @invariant()
        def producer_answers(self) -> None:
            if self.cluster.nodes:
                head = self.run(self.cluster.nodes[0].call("chain_head"), 30)
                assert int(head["height"]) >= self.acked, (
                    f"producer head {head} < acked {self.acked}"
                )

        def teardown(self) -> None:
            try:
                if self.cluster.nodes:
                    self.heal_all_and_judge()
            finally:
                try:
                    self.run(self._close(), 90)
                finally:
                    self.loop.close()

        async def _close(self) -> None:
            if not self.recorded:
                await self.rec.stop()
            await self.cluster.close()

        def heal_all_and_judge(self) -> None:
            if self.faults:
                self.heal()
            self.run(self.cluster.wait_heads_in_sync(90, min_height=self.acked), 120)
            self.run(self.rec.stop(), 60)
            self.recorded = True
            history = read_history(self.work / "history.jsonl")
            oracle = ChainOracle(OracleSpec.load(spec_dir / "chain-spec.json"))
            found = run_checkers(history, oracle, CheckerBounds(convergence_s=90, max_peers=25))
            assert not violations(found), [str(v) for v in violations(found)][:5]

    return ClusterMachine


def test_cluster_checkers_hold_under_generated_operations_and_faults(
    spec_dir: Path, tmp_path: Path
) -> None:
    machine = machine_for(spec_dir, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=2, stateful_step_count=6, deadline=None, database=None,
                          derandomize=True, suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
    histories = sorted(tmp_path.glob("run-*/history.jsonl"))
    assert histories, "no run recorded a history"
    kinds = {e["kind"] for e in read_history(histories[0]).events}
    assert {"block", "head", "op"} <= kinds
