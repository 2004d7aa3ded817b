"""ChaosHarness: the chaos run as a SyncImprovement harness, when config ``chaos_enabled``.

One test runs the configured schedule (``chaos`` section) on a real cluster and fails naming
every event whose effect was not seen or that was not recovered from, and every checker
violation (rule, node, height); a second reports the event types whose mechanism this machine
lacks as UNSUPPORTED with the reason and what to install. With chaos disabled the registry
entry yields a harness with no categories and no tests, so the phase is unaffected.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...chaos import ChaosRun, settings_from_config
from ...chaos.mechanisms import select
from ...chaos.report import ChaosReport
from ...results import TestResult
from ..base import BaseHarness, HarnessContext, Outcome, harness_test


class ChaosHarness(BaseHarness):
    name: ClassVar[str] = "chaos"
    categories: ClassVar[tuple[str, ...]] = ("chaos",)

    def __init__(self, ctx: HarnessContext) -> None:
        super().__init__(ctx)
        self.settings = settings_from_config(ctx.config)
        self.report: ChaosReport | None = None

    @harness_test("chaos")
    async def test_chaos_schedule(self, out: Outcome) -> None:
        run = ChaosRun(self.settings, self.ctx.workdir / "chaos", log=lambda *_: None)
        report = await run.run()
        self.report = report
        report.write(self.ctx.workdir / "chaos" / "chaos_report.json")
        d = report.to_json()
        out.record(**{k: d[k] for k in ("seed", "schedule", "availability", "mttf_s", "mttr_s",
                                        "resilience_score", "per_category", "timeline",
                                        "failed_checkers")})  # fmt: skip
        t0 = min((r.started_at for r in report.events if r.started_at), default=0.0)
        out.record(**report.plot_metrics(t0))
        out.expect(
            not report.failures(), "every fault biting, recovered from, and no checker violation",
            "; ".join(report.failures()[:8]),
        )  # fmt: skip

    @harness_test("chaos")
    async def test_every_mechanism_available(self, out: Outcome) -> None:
        # the mechanism the run would use in its network mode (kernel mode: netem's absence)
        missing = {t.value: why for t in self.settings.allowed
                   if (why := select(t, self.settings.network)[1]) is not None}  # fmt: skip
        out.record(unsupported=missing)
        out.expect(True, "mechanisms probed")
        if missing:
            out.unsupported("; ".join(f"{k}: {v}" for k, v in missing.items()))


class _ChaosDisabled:
    """Null harness: chaos_enabled is false, so nothing is required and nothing runs."""

    name = "chaos"
    categories: tuple[str, ...] = ()

    def __init__(self, ctx: HarnessContext) -> None:
        self.results: list[TestResult] = []

    async def health_check(self) -> bool:
        return True

    async def initialize(self) -> None:
        return None

    async def run_all_tests(self) -> list[TestResult]:
        return []

    async def shutdown(self) -> None:
        return None

    def get_metrics(self) -> dict[str, Any]:
        return {"chaos_enabled": False}


def chaos_harness(ctx: HarnessContext) -> Any:
    """The registry's factory: the chaos harness only when ``chaos_enabled``."""
    return ChaosHarness(ctx) if ctx.config.chaos_enabled else _ChaosDisabled(ctx)


__all__ = ["ChaosHarness", "chaos_harness"]
