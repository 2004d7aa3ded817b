"""The foundation harness: its categories, in the order they run."""

from __future__ import annotations

from .config import ConfigChecks
from .events import EventChecks
from .metrics import MetricsChecks
from .registry import RegistryChecks


class FoundationHarness(ConfigChecks, RegistryChecks, MetricsChecks, EventChecks):
    name = "foundation"
    categories = ("config", "registry", "metrics", "events")
