"""LighthouseCompatHarness: consensus types and the Engine API stay compatible across versions.

Every verdict comes from the real target, judged by the framework's oracles: SSZ roots
against consensus-spec-tests vectors and the specs' containers, recorded real-client
exchanges re-encoded by the target's codec, and a live Engine API endpoint (embedded by
default, or any execution client by URL + JWT secret) driven exactly as a consensus client
drives it, each exchange validated against the execution-apis OpenRPC schemas and every block
hash recomputed with RLP + keccak. Each failure cites the spec section it violates.
"""

from __future__ import annotations

from typing import ClassVar

from .api_compatibility import ApiCompatibility
from .authentication import Authentication
from .consensus_integration import ConsensusIntegration
from .type_compatibility import TypeCompatibility


class LighthouseCompatHarness(
    ApiCompatibility, TypeCompatibility, ConsensusIntegration, Authentication
):
    name: ClassVar[str] = "lighthouse"
    categories: ClassVar[tuple[str, ...]] = (
        "api_compatibility",
        "type_compatibility",
        "consensus_integration",
        "authentication",
    )
