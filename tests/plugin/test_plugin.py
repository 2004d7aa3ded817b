"""The pytest plugin: fixtures work under plain pytest, a failing test still tears its nodes
down, and a pytest run folds into an alys-test report as the ``pytest`` harness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.framework import MigrationTestFramework
from alys_test_framework.phases import MigrationPhase
from alys_test_framework.pytest_plugin import PytestHarness, parse_junit
from alys_test_framework.results import TestStatus
from alys_test_framework.testing import run_harness

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

USER_TESTS = """
import pytest

def test_passes(actor_system, alys_generators):
    assert alys_generators.message_bursts is not None
    assert actor_system.system is not None

def test_fails():
    assert 1 == 2, "one is not two"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""

CLUSTER_FAILS = """
import pytest

@pytest.mark.node_cluster(size=2)
def test_cluster_then_fail(node_cluster):
    node_cluster.produce(3)
    node_cluster.wait_in_sync(min_height=3)
    (tmp := __import__("pathlib").Path(r"{marker}")).write_text(
        " ".join(str(n.pid) for n in node_cluster.nodes)
    )
    raise AssertionError("the test fails with nodes running")
"""


def _pytest(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    ini = path / "pytest.ini" if path.is_dir() else path.parent / "pytest.ini"
    ini.write_text("[pytest]\n") if not ini.exists() else None
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path), *args],
        capture_output=True, text=True, timeout=240, cwd=path if path.is_dir() else path.parent,
    )  # fmt: skip


@pytest.mark.slow
def test_the_examples_pass_under_plain_pytest() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=300, cwd=EXAMPLES,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:]
    assert "5 passed" in r.stdout


def test_a_failing_cluster_test_leaves_no_node_behind(tmp_path: Path) -> None:
    marker = tmp_path / "pids"
    (tmp_path / "test_c.py").write_text(CLUSTER_FAILS.replace("{marker}", str(marker)))
    r = _pytest(tmp_path)
    assert r.returncode == 1 and "the test fails with nodes running" in r.stdout, r.stdout[-2000:]
    pids = [int(p) for p in marker.read_text().split()]
    assert len(pids) == 2
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert not alive, f"nodes left running: {alive}"


def test_junit_cases_become_results(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    r = _pytest(tmp_path, f"--junitxml={tmp_path / 'j.xml'}")
    assert r.returncode == 1
    by = {x.name.split("::")[-1]: x for x in parse_junit(tmp_path / "j.xml")}
    assert by["test_passes"].status is TestStatus.PASSED
    assert (
        by["test_fails"].status is TestStatus.FAILED
        and "one is not two" in by["test_fails"].message
    )
    assert by["test_skipped"].status is TestStatus.SKIPPED


def test_pytest_harness_reports_each_case(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    results = run_harness(lambda ctx: PytestHarness(ctx, [tmp_path]), TestConfig.development())
    statuses = {r.name.split("::")[-1]: r.status for r in results}
    assert statuses == {"test_passes": TestStatus.PASSED, "test_fails": TestStatus.FAILED,
                        "test_skipped": TestStatus.SKIPPED}  # fmt: skip
    assert {r.harness for r in results} == {"pytest"}


def test_include_pytest_folds_into_the_last_phase_and_gates_it(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    with MigrationTestFramework(TestConfig.development(), include_pytest=[tmp_path]) as fw:
        result = fw.run([MigrationPhase.FOUNDATION])
    (phase,) = result.phases
    assert phase.harnesses[-1] == "pytest"
    assert not phase.passed and "test_user::test_fails" in phase.message
    own = [r for r in phase.results if r.harness != "pytest"]
    assert own and all(r.passed for r in own), [(r.name, r.message) for r in own if not r.passed]
    assert any(
        r.name.endswith("test_fails") and r.status is TestStatus.FAILED for r in phase.results
    )
