import json
import xml.etree.ElementTree as ET

from alys_test_framework.config import TestConfig
from alys_test_framework.framework import MigrationTestFramework, PhaseStatus
from alys_test_framework.harness.registry import HarnessRegistry, Registration
from alys_test_framework.phases import MigrationPhase as P
from alys_test_framework.reporting import replay_summary
from alys_test_framework.reporting.schema import validate_report
from tests.foundation.foundation_fakes import FailingHarness, InterruptingHarness, PassingHarness

FOUNDATION = Registration(P.FOUNDATION, "alys_test_framework.harness.foundation:FoundationHarness")


def registry(**phases):
    reg = HarnessRegistry([FOUNDATION])
    for name, factories in phases.items():
        reg.replace(P[name], factories)
    return reg


def test_foundation_phase_passes_and_writes_reports(tmp_path):
    with MigrationTestFramework(
        TestConfig.development(), report_dir=tmp_path, registry=registry()
    ) as fw:
        result = fw.run([P.FOUNDATION])
    assert result.passed, result.phases[0].message
    report = json.loads((tmp_path / "report.json").read_text())
    validate_report(report)
    assert report["schema_version"] == 1 and report["status"] == "passed"
    assert {t["name"] for t in report["phases"][0]["tests"]} >= {
        "test_config_validation",
        "test_event_log_replay",
    }
    assert [v["status"] for v in report["phases"][0]["validators"]][:3] == ["passed"] * 3
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites.get("failures") == "0" and int(suites.get("tests")) >= 7
    assert replay_summary(tmp_path / "events.jsonl") == report["summary"]


def test_unregistered_phase_is_not_implemented_and_fails_the_run(tmp_path):
    reg = HarnessRegistry([FOUNDATION])  # nothing for actor-core
    with MigrationTestFramework(TestConfig.development(), report_dir=tmp_path, registry=reg) as fw:
        result = fw.run([P.FOUNDATION, P.ACTOR_CORE])
    assert not result.passed
    assert result.phases[1].status is PhaseStatus.NOT_IMPLEMENTED
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.get("failures") == "1"


def test_missing_harness_module_means_not_implemented():
    reg = HarnessRegistry(
        [Registration(P.ACTOR_CORE, "alys_test_framework.harness.no_such_module:X")]
    )
    assert not reg.is_implemented(P.ACTOR_CORE)


def test_failed_phase_gates_later_phases_unless_continue(tmp_path):
    reg = registry(ACTOR_CORE=[FailingHarness], SYNC_IMPROVEMENT=[PassingHarness])
    with MigrationTestFramework(TestConfig.development(), registry=reg) as fw:
        result = fw.run([P.ACTOR_CORE, P.SYNC_IMPROVEMENT])
    assert [p.status for p in result.phases] == [PhaseStatus.FAILED, PhaseStatus.SKIPPED]
    assert "beta (test_broken)" in result.phases[0].message
    cfg = TestConfig.development().model_copy(update={"continue_on_failure": True})
    with MigrationTestFramework(cfg, registry=reg) as fw:
        result = fw.run([P.ACTOR_CORE, P.SYNC_IMPROVEMENT])
    assert [p.status for p in result.phases] == [PhaseStatus.FAILED, PhaseStatus.PASSED]
    assert not result.passed


def test_phase_validator_requires_declared_categories():
    class Partial(PassingHarness):
        categories = ("alpha", "gamma")  # gamma is declared but never measured

    with MigrationTestFramework(
        TestConfig.development(), registry=registry(SYNC_IMPROVEMENT=[Partial])
    ) as fw:
        result = fw.run_phase_validation(P.SYNC_IMPROVEMENT)
    assert result.status is PhaseStatus.FAILED
    assert "missing categories: gamma" in result.message


def test_actor_core_requires_lifecycle_and_recovery_even_if_undeclared():
    with MigrationTestFramework(
        TestConfig.development(), registry=registry(ACTOR_CORE=[PassingHarness])
    ) as fw:
        result = fw.run_phase_validation(P.ACTOR_CORE)
    assert "missing categories: lifecycle, recovery" in result.message


def test_unhealthy_harness_is_an_error_not_a_pass():
    class Sick(PassingHarness):
        async def health_check(self) -> bool:
            return False

    with MigrationTestFramework(
        TestConfig.development(), registry=registry(SYNC_IMPROVEMENT=[Sick])
    ) as fw:
        result = fw.run_phase_validation(P.SYNC_IMPROVEMENT)
    assert result.status is PhaseStatus.FAILED
    assert result.results[0].name == "health_check" and result.results[0].status.value == "error"


def test_sigint_writes_partial_reports_and_shuts_harnesses_down(tmp_path):
    InterruptingHarness.shut_down = False
    reg = registry(ACTOR_CORE=[InterruptingHarness])
    with MigrationTestFramework(TestConfig.development(), report_dir=tmp_path, registry=reg) as fw:
        result = fw.run([P.ACTOR_CORE, P.SYNC_IMPROVEMENT])
    assert result.interrupted and not result.passed
    assert InterruptingHarness.shut_down
    report = json.loads((tmp_path / "report.json").read_text())
    validate_report(report)
    assert report["status"] == "interrupted"
    assert [t["name"] for t in report["phases"][0]["tests"]] == ["test_first"]
    ET.parse(tmp_path / "junit.xml")
    assert replay_summary(tmp_path / "events.jsonl") == report["summary"]


def test_shutdown_is_idempotent_and_metrics_are_measured():
    fw = MigrationTestFramework(
        TestConfig.development(), registry=registry(SYNC_IMPROVEMENT=[PassingHarness])
    )
    fw.run([P.SYNC_IMPROVEMENT])
    metrics = fw.collect_metrics()
    assert metrics["resources"]["samples"] >= 2 and metrics["resources"]["peak_rss_mb"] > 10
    assert metrics["execution"]["tests"] == 1
    assert "passing.test_measures_something.ops_per_s" in metrics["performance"]["throughput"]
    fw.shutdown()
    fw.shutdown()


def test_harness_exceptions_and_empty_checks_are_errors():
    import asyncio

    from alys_test_framework.harness.base import BaseHarness, HarnessContext, harness_test

    class Odd(BaseHarness):
        name = "odd"
        categories = ("x",)

        @harness_test("x")
        async def test_raises(self, out):
            raise RuntimeError("target exploded")

        @harness_test("x")
        async def test_checks_nothing(self, out):
            out.record(value=1)

        @harness_test("x", timeout_s=0.05)
        async def test_hangs(self, out):
            await asyncio.sleep(5)

    results = asyncio.run(Odd(HarnessContext(TestConfig.development())).run_all_tests())
    assert [r.status.value for r in results] == ["error", "error", "error"]
    assert "target exploded" in results[0].message
    assert results[1].message == "test checked no property"
    assert "timed out" in results[2].message
