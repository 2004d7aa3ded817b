"""Helpers of the network harness: the shared base of its category modules, topology math."""

from .base import NetworkHarnessBase
from .topology import component, height_of, slow_hops

__all__ = ["NetworkHarnessBase", "component", "height_of", "slow_hops"]
