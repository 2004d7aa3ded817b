"""Chaos testing: every ChaosEvent of the original framework as a real, measured fault on a
real cluster; a seeded scheduler; a health monitor; the cluster checkers as judges; a report
with timeline, per-category results, MTTF, MTTR, availability and a resilience score."""

from .events import ChaosCategory, ChaosEvent, ChaosEventType
from .report import ChaosReport
from .runner import ChaosRun, ChaosSettings, settings_from_config
from .scheduler import ChaosEventScheduler, ChaosPhase, ScheduleSpec, format_schedule

__all__ = [
    "ChaosCategory",
    "ChaosEvent",
    "ChaosEventScheduler",
    "ChaosEventType",
    "ChaosPhase",
    "ChaosReport",
    "ChaosRun",
    "ChaosSettings",
    "ScheduleSpec",
    "format_schedule",
    "settings_from_config",
]
