"""The Lighthouse compatibility harness: one module per category, helpers in ``kit``."""

from .harness import LighthouseCompatHarness
from .kit import PACKAGED_VECTORS, find_vectors

__all__ = ["PACKAGED_VECTORS", "LighthouseCompatHarness", "find_vectors"]
