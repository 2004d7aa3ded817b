"""Adapters to the Lighthouse harness's systems under test: codec, SSZ types, Engine API endpoint.

The harness sees an execution layer only as a URL plus JWT secret (embedded by default, or
external: ``lighthouse.engine_url`` / ``jwt_secret_file``) and the codec and types only
through the small adapters here. ``ethereumjs`` starts a real third-party client for interop.
"""

from .adapters import ConsensusTypes, EngineCodec
from .target import EndpointFactory, EngineSession, EngineTarget

__all__ = ["ConsensusTypes", "EndpointFactory", "EngineCodec", "EngineSession", "EngineTarget"]
