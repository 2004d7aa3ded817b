"""The subjects the foundation harness checks, injectable so tests can hand in broken ones.

The framework checks itself before it judges anything else: each check exercises a real
subject (the config class, the harness registry, the resource sampler, the event log).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ....config import TestConfig
from ....events import EventLog
from ....metrics import ResourceSampler
from ...base import BaseHarness, HarnessContext
from ...registry import HarnessRegistry


class FoundationBase(BaseHarness):
    """Holds the subjects; the category modules add the checks."""

    def __init__(
        self,
        ctx: HarnessContext,
        *,
        config_cls: type[TestConfig] = TestConfig,
        registry: HarnessRegistry | None = None,
        sampler_factory: Callable[[float], ResourceSampler] = ResourceSampler,
        event_log_factory: Callable[[Path], EventLog] = EventLog,
    ) -> None:
        super().__init__(ctx)
        self.config_cls = config_cls
        self.registry = registry or HarnessRegistry()
        self.sampler_factory = sampler_factory
        self.event_log_factory = event_log_factory

    async def health_check(self) -> bool:
        return self.ctx.workdir.is_dir() and os.access(self.ctx.workdir, os.W_OK)
