"""Category registry: every registered harness honours the contract and reports healthy.

A harness's ``categories`` are what its phase validator requires. A harness with tests must
declare every category they use (BaseHarness refuses otherwise at class definition; checked here
again on the registered objects, since a class can be altered after it was defined); a null
harness (no tests, e.g. chaos while chaos is disabled) may declare none: it requires nothing.
"""

from __future__ import annotations

import asyncio

from ...phases import MigrationPhase
from ..base import BaseHarness, HarnessContext, Outcome, TestHarness, harness_test
from .kit import FoundationBase


class RegistryChecks(FoundationBase):
    @harness_test("registry")
    async def test_harness_registry(self, out: Outcome) -> None:
        implemented: list[str] = []
        missing: list[str] = []
        for phase in MigrationPhase:
            factories = self.registry.factories(phase)
            (implemented if factories else missing).append(phase.value)
            for factory in factories:
                harness = factory(HarnessContext(self.config, self.ctx.events, self.ctx.workdir))
                label = f"{phase.value}:{type(harness).__name__}"
                # the subject may be broken: a non-harness is a finding, not a crash
                if not out.expect(
                    isinstance(harness, TestHarness), "registered object is a TestHarness", label
                ):
                    continue
                out.expect(bool(harness.name), "harness has a name", label)
                cats = harness.categories
                out.expect(
                    isinstance(cats, tuple) and all(isinstance(c, str) and c for c in cats),
                    "harness categories are a tuple of names",
                    f"{label}: {cats!r}",
                )
                if isinstance(harness, BaseHarness):
                    used = {c for _, c, _ in type(harness).test_methods()}
                    out.expect(
                        used <= set(cats),
                        "harness declares the categories its tests use",
                        f"{label}: undeclared {sorted(used - set(cats))}",
                    )
        out.expect(MigrationPhase.FOUNDATION.value in implemented, "foundation phase is registered")
        out.record(implemented=implemented, not_implemented=missing)

    @harness_test("registry")
    async def test_harness_health(self, out: Outcome) -> None:
        checked = 0
        for phase in MigrationPhase:
            for factory in self.registry.factories(phase):
                harness = factory(HarnessContext(self.config, self.ctx.events, self.ctx.workdir))
                try:
                    healthy = await asyncio.wait_for(harness.health_check(), timeout=30)
                except Exception as exc:
                    out.fail(
                        "health check completes", f"{harness.name}: {type(exc).__name__}: {exc}"
                    )
                    continue
                checked += 1
                out.expect(healthy is True, "harness reports its target healthy", harness.name)
        out.record(harnesses_checked=checked)
