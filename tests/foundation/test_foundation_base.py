"""The harness contract: categories checked at definition, order, fail, unsupported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alys_test_framework.config import TestConfig
from alys_test_framework.framework import MigrationTestFramework
from alys_test_framework.harness.base import BaseHarness, HarnessContext, Outcome, harness_test
from alys_test_framework.harness.registry import HarnessRegistry
from alys_test_framework.phases import MigrationPhase as P
from alys_test_framework.reporting import build_junit, build_report
from alys_test_framework.reporting.schema import validate_report
from alys_test_framework.results import TestStatus


def run(harness_cls):
    return asyncio.run(harness_cls(HarnessContext(TestConfig.development())).run_all_tests())


def test_undeclared_category_is_rejected_naming_method_and_category():
    with pytest.raises(TypeError, match=r"Bad\.test_b is in category 'beta'"):

        class Bad(BaseHarness):
            name = "bad"
            categories = ("alpha",)

            @harness_test("alpha")
            async def test_a(self, out: Outcome) -> None:
                out.expect(True, "x")

            @harness_test("beta")
            async def test_b(self, out: Outcome) -> None:
                out.expect(True, "x")


def test_mixin_categories_are_checked_where_they_are_combined():
    class Mixin(BaseHarness):  # no name, no categories: a category module's mixin
        @harness_test("gamma")
        async def test_g(self, out: Outcome) -> None:
            out.expect(True, "x")

    with pytest.raises(TypeError, match="test_g is in category 'gamma'"):

        class Combined(Mixin):
            name = "combined"
            categories = ("alpha",)


def test_order_follows_the_categories_tuple_not_the_mro():
    class Second(BaseHarness):
        @harness_test("second")
        async def test_s1(self, out: Outcome) -> None:
            out.expect(True, "x")

        @harness_test("second")
        async def test_s2(self, out: Outcome) -> None:
            out.expect(True, "x")

    class First(BaseHarness):
        @harness_test("first")
        async def test_f(self, out: Outcome) -> None:
            out.expect(True, "x")

    class Both(Second, First):  # MRO puts Second's tests first
        name = "both"
        categories = ("first", "second")

    assert [r.name for r in run(Both)] == ["test_f", "test_s1", "test_s2"]


def test_fail_unsupported_and_their_mixtures():
    class H(BaseHarness):
        name = "h"
        categories = ("c",)

        @harness_test("c")
        async def test_fail(self, out: Outcome) -> None:
            out.fail("replies arrive", "0 of 10 replies")

        @harness_test("c")
        async def test_unsupported(self, out: Outcome) -> None:
            out.expect(True, "measured first")
            out.unsupported("no priority mailboxes")

        @harness_test("c")
        async def test_violation_then_unsupported(self, out: Outcome) -> None:
            out.expect(False, "order kept", "3 before 2")
            out.unsupported("no overflow policy")

    fail, unsup, mixed = run(H)
    assert fail.status is TestStatus.FAILED and fail.message == "replies arrive: 0 of 10 replies"
    assert unsup.status is TestStatus.UNSUPPORTED and unsup.message == "no priority mailboxes"
    assert not unsup.passed
    # what was measured and failed is reported as a failure, never hidden by "unsupported"
    assert mixed.status is TestStatus.FAILED and "order kept" in mixed.message


class Unsup(BaseHarness):
    name = "unsup"
    categories = ("c",)

    @harness_test("c")
    async def test_ok(self, out: Outcome) -> None:
        out.expect(True, "x")

    @harness_test("c")
    async def test_cannot(self, out: Outcome) -> None:
        out.unsupported("the target cannot")


@pytest.mark.parametrize("phase", [P.FOUNDATION, P.ACTOR_CORE])
def test_unsupported_fails_the_phase_and_is_counted_in_reports(tmp_path, phase):
    registry = HarnessRegistry([])
    registry.register(phase, Unsup)
    with MigrationTestFramework(
        TestConfig.development(), report_dir=tmp_path, registry=registry
    ) as fw:
        result = fw.run([phase])
    assert not result.passed
    assert "test_cannot" in result.phases[0].message
    report = build_report(result)
    validate_report(report)
    assert report["summary"]["tests"]["unsupported"] == 1
    assert report["phases"][0]["metrics"]["unsupported"] == 1
    case = build_junit(result).find(".//testcase[@name='test_cannot']")
    assert case is not None and case.find("skipped").get("message") == (
        "unsupported: the target cannot"
    )


def test_a_factory_that_is_not_a_harness_is_an_error_result(tmp_path):
    class NotAHarness:
        def __init__(self, ctx):
            self.name = "imposter"  # no categories, no results, no run_all_tests

    registry = HarnessRegistry([])
    registry.register(P.FOUNDATION, NotAHarness)
    with MigrationTestFramework(
        TestConfig.development(), report_dir=tmp_path, registry=registry
    ) as fw:
        result = fw.run([P.FOUNDATION])
    (only,) = result.phases[0].results
    assert only.status is TestStatus.ERROR and "not a TestHarness" in only.message
    assert not result.passed


def test_a_stall_is_a_named_liveness_failure_and_a_wait_timeout_names_its_condition():
    from alys_test_framework.waiting import wait_for_progress, wait_until

    class H(BaseHarness):
        name = "h"
        categories = ("c",)

        @harness_test("c")
        async def test_stalls(self, out: Outcome) -> None:
            await wait_for_progress(lambda: 7, lambda h: h >= 10, "node-1 height", stall_s=0.1)

        @harness_test("c")
        async def test_waits(self, out: Outcome) -> None:
            await wait_until(lambda: False, 0.1, "two peers", observe=lambda: 1)

    stalled, waited = run(H)
    assert stalled.status is TestStatus.FAILED
    assert stalled.message.startswith("liveness: stalled: node-1 height made no progress")
    assert waited.status is TestStatus.ERROR
    assert "waiting for two peers; last observed: 1" in waited.message


def test_fail_fast_skips_the_rest_of_a_harness_after_its_first_failure(tmp_path: Path) -> None:
    """--fail-fast (the mutation exam's mode): the first FAILED test ends the harness; an
    ERROR does not (a later test may still name the violated rule)."""
    from alys_test_framework.results import TestStatus
    from alys_test_framework.testing import run_harness

    class Three(BaseHarness):
        name = "three"
        categories = ("c",)

        @harness_test("c")
        async def test_a_errors(self, out: Outcome) -> None:
            raise RuntimeError("broken")

        @harness_test("c")
        async def test_b_fails(self, out: Outcome) -> None:
            out.expect(False, "b holds")

        @harness_test("c")
        async def test_c_never_runs(self, out: Outcome) -> None:
            out.expect(True, "c holds")

    def statuses(cfg: TestConfig) -> list[TestStatus]:
        return [r.status for r in run_harness(Three, cfg, tmp_path)]

    on = TestConfig.load(overrides={"fail_fast": True})
    assert statuses(on) == [TestStatus.ERROR, TestStatus.FAILED, TestStatus.SKIPPED]
    assert statuses(TestConfig.load())[2] is TestStatus.PASSED


def test_a_long_wait_reports_what_it_waits_for_as_progress_events(tmp_path: Path) -> None:
    from alys_test_framework.events import EventLog
    from alys_test_framework.testing import run_harness
    from alys_test_framework.waiting import wait_for_progress

    class Climbs(BaseHarness):
        name = "climbs"
        categories = ("c",)

        @harness_test("c")
        async def test_climb(self, out: Outcome) -> None:
            h = iter(range(100))
            top = await wait_for_progress(
                lambda: next(h), lambda v: v >= 3, "node-1 height", stall_s=1, poll_s=0.01
            )
            out.expect(top == 3, "reached 3")

    log = EventLog()
    [r] = run_harness(Climbs, TestConfig.load(), tmp_path, events=log)
    assert r.passed, r.message
    [ev] = [e for e in log.events if e.type == "progress"]  # at most one a second
    assert ev.metadata["test"] == "test_climb"
    assert ev.metadata["waiting_for"] == "node-1 height: now 1"
