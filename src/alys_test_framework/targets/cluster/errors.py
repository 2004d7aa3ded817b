"""Errors of the cluster target: kept apart so every module of the package can raise them."""

from __future__ import annotations


class ClusterError(RuntimeError):
    """A node could not be started or driven; the message says which and why."""
