"""pytest plugin (entry point ``pytest11``): the framework's targets as fixtures, for tests
users write themselves, and the harness that folds such a test run into an alys-test report.

Fixtures: ``alys_config`` (the TestConfig, ``--alys-preset``), ``actor_system`` (a fresh
system on the configured runtime), ``node_cluster`` (real node processes on loopback through
a fault proxy; size, profile and faults from ``@pytest.mark.node_cluster(...)``),
``fault_proxy``, ``engine_endpoint`` (the embedded Engine API), ``federation`` (a governance
ledger with member keys) and ``alys_generators`` (the Hypothesis strategies).

Why a loop thread: plain pytest has no event loop, and the targets are asyncio objects. Each
fixture owns its loop in a background thread, and ``fixture.run(awaitable)`` runs one step
there and returns its result, so a test body stays ordinary synchronous pytest.

Teardown is guaranteed: every fixture closes its target in a ``finally``; at the end of the
session, child processes still alive (a node a test forgot) are killed and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

from . import generators
from .config import TestConfig
from .harness.base import BaseHarness, HarnessContext
from .results import TestResult, TestStatus

T = TypeVar("T")
_STARTED_PROCESSES = pytest.StashKey[bool]()
DEFAULT_STEP_S = 120.0


# -- the loop every fixture's target lives on -------------------------------------------------
class LoopThread:
    """An asyncio loop in a daemon thread; ``run`` executes one awaitable there."""

    def __init__(self, name: str = "alys-fixture") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, aw: Awaitable[T], timeout_s: float = DEFAULT_STEP_S) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(_await(aw), self.loop)
        try:
            return fut.result(timeout_s)
        except TimeoutError:
            fut.cancel()
            raise TimeoutError(f"fixture step did not finish within {timeout_s:g} s") from None

    def close(self) -> None:
        if self.loop.is_closed():
            return
        with contextlib.suppress(Exception):  # tasks a target left behind end with the loop
            self.run(_cancel_others(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


async def _await(aw: Awaitable[T]) -> T:
    return await aw


async def _cancel_others() -> None:
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


@contextlib.contextmanager
def loop_thread(name: str) -> Iterator[LoopThread]:
    lt = LoopThread(name)
    try:
        yield lt
    finally:
        lt.close()


# -- options and config -------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alys", "alys-test-framework fixtures")
    group.addoption(
        "--alys-preset", default="development", help="TestConfig preset of the fixtures"
    )
    group.addoption("--alys-seed", type=int, default=0, help="run seed of the fixtures")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "node_cluster(size=3, profile='reference', faults=None): the node_cluster fixture's shape; "
        "faults maps (src, dst) pairs to fault-proxy parameters (latency_ms, loss, partitioned…)",
    )


@pytest.fixture(scope="session")
def alys_config(pytestconfig: pytest.Config) -> TestConfig:
    cfg = TestConfig.preset(pytestconfig.getoption("--alys-preset"))
    return cfg.model_copy(update={"seed": pytestconfig.getoption("--alys-seed")})


@pytest.fixture(scope="session")
def alys_generators() -> Any:
    """The domain's Hypothesis strategies (``alys_test_framework.generators``)."""
    return generators


# -- actor_system ----------------------------------------------------------------------------------
@dataclass
class ActorSystemFixture:
    runtime: Any
    system: Any
    loop: LoopThread

    def run(self, aw: Awaitable[T], timeout_s: float = DEFAULT_STEP_S) -> T:
        return self.loop.run(aw, timeout_s)


@pytest.fixture
def actor_system(alys_config: TestConfig) -> Iterator[ActorSystemFixture]:
    """A fresh actor system on ``actor_system.runtime`` (alys_actors or pykka), shut down after."""
    from .targets.actor_runtime import runtime_named

    runtime = runtime_named(alys_config.actor_system.runtime)
    with loop_thread("alys-actor-system") as lt:

        async def create() -> Any:
            return runtime.create_system(alys_config.seed, name="pytest")

        system = lt.run(create())
        try:
            yield ActorSystemFixture(runtime, system, lt)
        finally:
            lt.run(system.shutdown(5.0), 30)


# -- node_cluster and fault_proxy --------------------------------------------------------------------
@dataclass
class ClusterFixture:
    """A started cluster: node 0 produces blocks in dev mode, the others follow, fully meshed."""

    cluster: Any
    chain: Any
    loop: LoopThread
    faults: list[Any] = field(default_factory=list)

    def run(self, aw: Awaitable[T], timeout_s: float = DEFAULT_STEP_S) -> T:
        return self.loop.run(aw, timeout_s)

    @property
    def nodes(self) -> list[Any]:
        return list(self.cluster.nodes)

    @property
    def proxy(self) -> Any:
        return self.cluster.proxy

    def call(self, node: int, method: str, *params: Any) -> Any:
        """One JSON-RPC call to a node."""
        return self.run(self.cluster.nodes[node].call(method, *params))

    def produce(self, blocks: int) -> Any:
        """Node 0 produces ``blocks`` more blocks; returns its head."""
        return self.call(0, "dev_produceBlocks", blocks)

    def heads(self) -> dict[int, Any]:
        """{node: (height, hash)} of every live node (an error string for one not answering)."""
        return self.run(self.cluster.heads())

    def wait_in_sync(self, min_height: int = 0, timeout_s: float = 60.0) -> tuple[int, str]:
        """Every live node holds the same head at or above ``min_height``; returns that head.
        Fails early, naming heads and peers, once no head moved for the cluster's stall time."""
        _, head = self.run(
            self.cluster.wait_heads_in_sync(timeout_s, min_height=min_height), timeout_s + 10
        )
        return head


def _cluster_shape(request: pytest.FixtureRequest) -> tuple[int, str, dict[Any, dict[str, Any]]]:
    mark = request.node.get_closest_marker("node_cluster")
    kw: dict[str, Any] = dict(mark.kwargs) if mark is not None else {}
    if hasattr(request, "param"):  # indirect parametrization: a dict of the same keys
        kw.update(request.param)
    return int(kw.get("size", 3)), str(kw.get("profile", "reference")), dict(kw.get("faults") or {})


@pytest.fixture
def node_cluster(
    request: pytest.FixtureRequest, alys_config: TestConfig, tmp_path: Path
) -> Iterator[ClusterFixture]:
    """Real node processes on 127.0.0.1, every link through the cluster's fault proxy."""
    from .targets.cluster.fixture import ChainFixture, NodeTarget

    size, profile, faults = _cluster_shape(request)
    request.config.stash[_STARTED_PROCESSES] = True
    net = alys_config.network
    target = NodeTarget.parse(None, net.node_command, profile)
    chain = ChainFixture(target, tmp_path, checkpoint_interval=alys_config.sync.checkpoint_interval,
                         seed=alys_config.seed)  # fmt: skip
    with loop_thread("alys-node-cluster") as lt:
        cluster = chain.new_cluster("pytest", alys_config.seed)
        try:

            async def up() -> list[Any]:
                await chain.init_spec()
                await cluster.start(
                    size, lambda i: chain.producer_args() if i == 0 else chain.follower_args()
                )
                await cluster.connect_full_mesh()
                assert cluster.proxy is not None  # a NodeCluster always builds its proxy
                return [
                    cluster.proxy.apply([pair], kind="pytest", **params)
                    for pair, params in faults.items()
                ]

            records = lt.run(up(), 180)
            yield ClusterFixture(cluster, chain, lt, records)
        finally:
            lt.run(cluster.close(), 60)


@dataclass
class ProxyFixture:
    proxy: Any
    loop: LoopThread

    def run(self, aw: Awaitable[T], timeout_s: float = DEFAULT_STEP_S) -> T:
        return self.loop.run(aw, timeout_s)


@pytest.fixture
def fault_proxy(alys_config: TestConfig) -> Iterator[ProxyFixture]:
    """A FaultProxy on 127.0.0.1 of your own: ``add_link`` to a server, then ``apply`` faults."""
    from .targets.cluster import FaultProxy

    with loop_thread("alys-fault-proxy") as lt:

        async def make() -> Any:
            return FaultProxy(seed=alys_config.seed, name="pytest-proxy")

        proxy = lt.run(make())
        try:
            yield ProxyFixture(proxy, lt)
        finally:
            lt.run(proxy.close(), 30)


# -- engine_endpoint and federation ------------------------------------------------------------------
@dataclass
class EngineFixture:
    session: Any  # EngineSession: url, secret, schedule, client
    loop: LoopThread

    def run(self, aw: Awaitable[T], timeout_s: float = DEFAULT_STEP_S) -> T:
        return self.loop.run(aw, timeout_s)

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One authenticated JSON-RPC call; returns the whole response object."""
        return self.run(self.session.client.request(method, list(params)))


@pytest.fixture
def engine_endpoint(alys_config: TestConfig) -> Iterator[EngineFixture]:
    """The embedded Engine API endpoint (fresh chain, JWT secret), or the configured external
    one (``lighthouse.engine_url``)."""
    from .oracles.engine.forks import schedule_for
    from .targets.engine import EngineTarget

    lh = alys_config.lighthouse
    target = EngineTarget.from_config(lh)
    with loop_thread("alys-engine") as lt:
        cm = target.session(schedule_for(lh.capella_block, lh.deneb_block))
        session = lt.run(cm.__aenter__())
        try:
            yield EngineFixture(session, lt)
        finally:
            lt.run(cm.__aexit__(None, None, None), 30)


@dataclass
class FederationFixture:
    target: Any  # GovernanceTarget
    members: list[Any]  # Signer(sk, pk, pop), signing with the framework's oracle
    threshold: int

    def ledger(self, federation_id: str = "alys") -> Any:
        """A fresh ledger over these members."""
        fed = self.target.new_federation(
            [(m.pk, m.pop) for m in self.members], self.threshold, federation_id=federation_id
        )
        return self.target.new_ledger(fed)


@pytest.fixture
def federation(alys_config: TestConfig) -> FederationFixture:
    """The configured federation (size, threshold) on the governance target, keys by the oracle."""
    import random

    from .oracles import bls
    from .targets.governance import load_target, make_signers

    gov = alys_config.governance
    members = make_signers(bls, gov.federation_size, random.Random(f"{alys_config.seed}:pytest"))
    return FederationFixture(load_target(), members, gov.threshold)


# -- no orphans -----------------------------------------------------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill and report child processes a test left running (a node it forgot to stop)."""
    from .testing import reap_leftovers

    if not session.config.stash.get(_STARTED_PROCESSES, False):
        return  # no fixture of ours started a process: nothing of ours can be left
    left = reap_leftovers((), grace_s=5.0)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"alys: killed processes left behind: {left}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- alys-test run --include-pytest: a pytest run as a harness of its own ------------------------------
class PytestHarness(BaseHarness):
    """Runs pytest on user paths (this plugin loaded) and reports each test case as a result."""

    name: ClassVar[str] = "pytest"
    categories: ClassVar[tuple[str, ...]] = ("pytest",)

    def __init__(self, ctx: HarnessContext, paths: Sequence[Path]) -> None:
        super().__init__(ctx)
        self.paths = [Path(p) for p in paths]

    async def health_check(self) -> bool:
        return all(p.exists() for p in self.paths)

    async def run_tests(self, only: Any = None) -> list[TestResult]:
        return await self.run_all_tests()

    async def run_all_tests(self) -> list[TestResult]:
        junit = Path(tempfile.mkdtemp(prefix="alys-pytest-", dir=self.ctx.workdir)) / "junit.xml"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                f"--junitxml={junit}", f"--alys-seed={self.ctx.seed}", *map(str, self.paths)]  # fmt: skip
        if "alys_test_framework.pytest_plugin" not in _entry_point_plugins():
            argv[4:4] = ["-p", "alys_test_framework.pytest_plugin"]
        limit = self.config.performance.max_test_duration_s
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            await proc.wait()
            return [self._result("pytest", TestStatus.ERROR, time.perf_counter() - start,
                                 f"pytest did not finish within {limit:g} s")]  # fmt: skip
        tail = output.decode(errors="replace").strip().splitlines()[-5:]
        if not junit.exists():
            return [self._result("pytest", TestStatus.ERROR, time.perf_counter() - start,
                                 f"pytest exited {proc.returncode} without a report: {' | '.join(tail)}")]  # fmt: skip
        results = parse_junit(junit, self.name)
        self.results.extend(results)
        for r in results:
            self.ctx.events.emit("test_finished", self.name, test=r.name, category=r.category,
                                 status=r.status.value, duration_s=r.duration_s, message=r.message)  # fmt: skip
        if not results:
            results = [
                self._result(
                    "pytest", TestStatus.ERROR, 0.0, f"no test collected: {' | '.join(tail)}"
                )
            ]
        return results

    def _result(self, name: str, status: TestStatus, duration: float, message: str) -> TestResult:
        r = TestResult(name, self.name, "pytest", status, duration, message)
        self.results.append(r)
        return r


def _entry_point_plugins() -> set[str]:
    from importlib.metadata import entry_points

    return {ep.value for ep in entry_points(group="pytest11")}


def parse_junit(path: Path, harness: str = "pytest") -> list[TestResult]:
    """One TestResult per junit testcase: failure → FAILED, error → ERROR, skipped → SKIPPED."""
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = "::".join(x for x in (case.get("classname", ""), case.get("name", "")) if x)
        status, message = TestStatus.PASSED, ""
        for tag, st in (("failure", TestStatus.FAILED), ("error", TestStatus.ERROR),
                        ("skipped", TestStatus.SKIPPED)):  # fmt: skip
            el = case.find(tag)
            if el is not None:
                status = st
                lines = (el.text or "").strip().splitlines()
                message = el.get("message") or (lines[-1] if lines else tag)
                break
        duration = float(case.get("time", 0) or 0)
        out.append(TestResult(name, harness, "pytest", status, duration, message[:400]))
    return out


__all__ = [
    "ActorSystemFixture",
    "ClusterFixture",
    "EngineFixture",
    "FederationFixture",
    "LoopThread",
    "ProxyFixture",
    "PytestHarness",
    "parse_junit",
]
