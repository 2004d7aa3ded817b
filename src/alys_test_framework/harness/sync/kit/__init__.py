"""Helpers of the sync harness: the shared base of its category modules, store tampering."""

from .base import SyncHarnessBase
from .store import tamper_store

__all__ = ["SyncHarnessBase", "tamper_store"]
