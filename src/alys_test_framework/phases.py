"""The five migration phases, in the order they gate each other."""

from __future__ import annotations

from enum import Enum


class MigrationPhase(str, Enum):
    FOUNDATION = "foundation"
    ACTOR_CORE = "actor-core"
    SYNC_IMPROVEMENT = "sync-improvement"
    LIGHTHOUSE_MIGRATION = "lighthouse-migration"
    GOVERNANCE_INTEGRATION = "governance-integration"

    @property
    def camel(self) -> str:
        """'actor-core' -> 'ActorCore': how validators and the seed's docs name a phase."""
        return "".join(w.capitalize() for w in self.value.split("-"))

    @classmethod
    def parse(cls, name: str) -> MigrationPhase:
        """Accept 'actor-core', 'actor_core', 'ActorCore'; raise ValueError naming the choices."""
        key = name.strip().lower().replace("_", "-")
        for phase in cls:
            if key in (phase.value, phase.camel.lower()):
                return phase
        choices = ", ".join(p.value for p in cls)
        raise ValueError(f"unknown phase {name!r}; choose one of: {choices}")


PHASE_ORDER: tuple[MigrationPhase, ...] = tuple(MigrationPhase)
