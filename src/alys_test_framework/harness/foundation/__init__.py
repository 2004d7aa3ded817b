"""FoundationHarness: the framework checks itself before it judges anything else.

One module per category (config, registry, metrics, events); ``kit`` holds the injectable
subjects. Registered as ``alys_test_framework.harness.foundation:FoundationHarness``.
"""

from .config import BAD_CONFIGS
from .harness import FoundationHarness

__all__ = ["BAD_CONFIGS", "FoundationHarness"]
