"""Which harnesses validate which phase.

Each harness is one module plus one line here. Entries are import strings so that a phase
whose module does not exist yet is reported as *not implemented* instead of breaking the run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..config import TestConfig
from ..phases import MigrationPhase
from .base import HarnessContext, TestHarness

HarnessFactory = Callable[[HarnessContext], TestHarness]


@dataclass(frozen=True)
class Registration:
    phase: MigrationPhase
    target: str  # "module:Class" or a factory registered directly


BUILTIN: list[Registration] = [
    Registration(
        MigrationPhase.FOUNDATION, "alys_test_framework.harness.foundation:FoundationHarness"
    ),
    Registration(MigrationPhase.ACTOR_CORE, "alys_test_framework.harness.actor:ActorTestHarness"),
    Registration(
        MigrationPhase.SYNC_IMPROVEMENT, "alys_test_framework.harness.sync:SyncTestHarness"
    ),
    Registration(
        MigrationPhase.SYNC_IMPROVEMENT, "alys_test_framework.harness.network:NetworkTestHarness"
    ),
    Registration(
        MigrationPhase.SYNC_IMPROVEMENT, "alys_test_framework.harness.chaos:chaos_harness"
    ),
    Registration(
        MigrationPhase.LIGHTHOUSE_MIGRATION,
        "alys_test_framework.harness.lighthouse:LighthouseCompatHarness",
    ),
    Registration(
        MigrationPhase.GOVERNANCE_INTEGRATION,
        "alys_test_framework.harness.governance:GovernanceIntegrationHarness",
    ),
]


class PluginError(ValueError):
    """A configured plugin that cannot be imported; a user error, reported in one line."""


class HarnessRegistry:
    """Maps phases to harness factories; a missing module means 'not implemented'."""

    def __init__(self, registrations: list[Registration] | None = None) -> None:
        self._entries: dict[MigrationPhase, list[str | HarnessFactory]] = {
            p: [] for p in MigrationPhase
        }
        for reg in BUILTIN if registrations is None else registrations:
            self._entries[reg.phase].append(reg.target)

    def register(self, phase: MigrationPhase, factory: str | HarnessFactory) -> None:
        self._entries[phase].append(factory)

    def replace(self, phase: MigrationPhase, factories: list[str | HarnessFactory]) -> None:
        self._entries[phase] = list(factories)

    def factories(self, phase: MigrationPhase) -> list[HarnessFactory]:
        """Resolve the phase's factories; unimportable builtin modules are skipped."""
        out: list[HarnessFactory] = []
        for entry in self._entries[phase]:
            if callable(entry):
                out.append(entry)
                continue
            module_name, _, attr = entry.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:  # the harness is not written yet
                    continue
                raise
            out.append(getattr(module, attr))
        return out

    def load_plugins(self, plugins: list[str]) -> None:
        """Call each 'module:function' with this registry so users can add their harnesses.

        Any failure of a plugin (its import raising anything, a missing hook, the hook raising)
        is the user's configuration problem, so it becomes one PluginError naming the plugin.
        """
        for spec in plugins:
            module_name, _, attr = spec.partition(":")
            try:
                hook = getattr(importlib.import_module(module_name), attr or "register")
            except Exception as exc:
                raise PluginError(
                    f"plugin {spec!r} cannot be loaded: {type(exc).__name__}: {exc}"
                ) from None
            if not callable(hook):
                raise PluginError(f"plugin {spec!r} is not callable")
            try:
                hook(self)
            except Exception as exc:
                raise PluginError(
                    f"plugin {spec!r} failed while registering: {type(exc).__name__}: {exc}"
                ) from None

    def is_implemented(self, phase: MigrationPhase) -> bool:
        return bool(self.factories(phase))

    def entries(self, phase: MigrationPhase) -> list[str | HarnessFactory]:
        return list(self._entries[phase])


def load_registry(config: TestConfig) -> HarnessRegistry:
    """The builtin harnesses plus the config's plugins: the one place plugins are loaded."""
    registry = HarnessRegistry()
    registry.load_plugins(config.plugins)
    return registry
