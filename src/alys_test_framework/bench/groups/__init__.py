"""Benchmark groups (the original's names): actor, sync, system, crypto.

A group is a module with ``GROUP`` (its name) and ``async def run(ctx) -> list[CaseResult]``.
"""

from __future__ import annotations

GROUPS = ("actor", "sync", "system", "crypto")
