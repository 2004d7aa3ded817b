"""Fixtures for the reference-node tests: a seeded chain spec and a launcher that always kills
what it started (also when the test fails).

Nodes are the framework's own ``NodeProcess`` (through its blocking wrapper), so the tests start
nodes exactly as the harnesses do: one ready-line parser, one teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alys_node.chain.spec import ChainSpec, init_spec
from alys_test_framework.targets.cluster.blocking import BlockingNode, LoopThread
from alys_test_framework.waiting import wait_until_blocking

# Names kept for the node tests that import them from here; new code imports
# BlockingNode and wait_until_blocking from alys_test_framework directly.
NodeProc = BlockingNode
wait_until = wait_until_blocking

Launch = Callable[..., BlockingNode]


@pytest.fixture(autouse=True)
def _guard(no_new_processes: None) -> None:
    """Every node test is checked for processes it left behind (see tests/conftest.py)."""
    return None


@pytest.fixture(scope="session")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("spec")
    init_spec(d, 1, chain_id="alys-node-test", slot_ms=1000, checkpoint_interval=10, seed=b"n" * 32)
    return d


@pytest.fixture(scope="session")
def spec(spec_dir: Path) -> ChainSpec:
    return ChainSpec.load(spec_dir / "chain-spec.json")


@pytest.fixture
def node_loop() -> Iterator[LoopThread]:
    """The event loop the test's nodes run their RPC and process handling on."""
    with LoopThread() as loop:
        yield loop


@pytest.fixture
def make_node(tmp_path: Path, node_loop: LoopThread) -> Iterator[Callable[..., BlockingNode]]:
    """``make_node(name, args)``: a node on any chain (not started); all are stopped after."""
    made: list[BlockingNode] = []

    def _make(name: str, args: list[str], datadir: Path | None = None) -> BlockingNode:
        n = BlockingNode(
            node_loop, name, datadir or tmp_path / name, list(args), tmp_path / f"{name}.log"
        )
        made.append(n)
        return n

    try:
        yield _make
    finally:  # graceful shutdown of each (SIGTERM, then SIGKILL after the grace)
        for n in made:
            n.terminate(timeout_s=5)


@pytest.fixture
def launch(spec_dir: Path, make_node: Callable[..., BlockingNode]) -> Launch:
    """``launch(name, *args, dev=False, start=True)`` starts a node on the test chain."""

    def _launch(name: str, *args: str, dev: bool = False, start: bool = True) -> BlockingNode:
        extra = ["--chain-spec", str(spec_dir / "chain-spec.json"), "--verify-workers", "1"]
        if dev:
            extra += ["--dev", "--authority-key", str(spec_dir / "authority-0.key")]
        n = make_node(name, [*extra, *args])
        return n.start() if start else n

    return _launch
