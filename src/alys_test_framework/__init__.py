"""alys-test-framework: validates the Alys V2 migration phase by phase on real targets."""

from .config import ConfigError, TestConfig
from .phases import MigrationPhase
from .results import TestResult, TestStatus

__version__ = "0.1.0"

__all__ = ["ConfigError", "MigrationPhase", "TestConfig", "TestResult", "TestStatus", "__version__"]
