"""Deliberately broken Lighthouse targets: each breaks exactly one compatibility property."""

from __future__ import annotations

from typing import Any

import jwt
from remerkleable.complex import Container

from alys_node.engine.jwt_auth import JwtAuthError, bearer_token
from alys_node.engine.server import EmbeddedExecutionEndpoint
from alys_node.engine.state import ForkSchedule
from alys_test_framework.targets.engine import ConsensusTypes, EngineCodec, EngineTarget


class DroppingCodec(EngineCodec):
    """Forgets feeRecipient when encoding payloads (a renamed/missed field in a new version)."""

    def encode_object(self, shape: str, value: dict[str, Any]) -> dict[str, Any]:
        out = super().encode_object(shape, value)
        if shape.startswith("ExecutionPayloadV"):
            out.pop("feeRecipient", None)
        return out


class SwappedTypes(ConsensusTypes):
    """ExecutionPayload(Header) with gas_limit and gas_used declared in swapped order."""

    _cache: dict[tuple[str, str, str], type] = {}

    def get_type(self, fork: str, name: str, preset: str = "mainnet") -> type:
        typ = super().get_type(fork, name, preset)
        if not name.startswith("ExecutionPayload"):
            return typ
        key = (fork, name, preset)
        if key not in self._cache:
            fields = dict(typ.fields())
            order = list(fields)
            i, j = order.index("gas_limit"), order.index("gas_used")
            order[i], order[j] = order[j], order[i]
            ann = {k: fields[k] for k in order}
            self._cache[key] = type(name, (Container,), {"__annotations__": ann})
        return self._cache[key]


class ValidWrongHashEndpoint(EmbeddedExecutionEndpoint):
    """Answers VALID without recomputing the block hash."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.check_block_hash = lambda block: True  # type: ignore[method-assign]


class ExpiredJwtEndpoint(EmbeddedExecutionEndpoint):
    """Checks the JWT signature but not the iat window."""

    def authenticate(self, header: str | None) -> None:
        try:
            jwt.decode(
                bearer_token(header),
                self.secret,
                algorithms=["HS256"],
                options={"verify_iat": False, "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise JwtAuthError(str(exc)) from None


class V3OnV2Endpoint(EmbeddedExecutionEndpoint):
    """Serves deneb's blobGasUsed/excessBlobGas in engine_getPayloadV2 responses."""

    def encode_result(self, method: str, result: Any) -> Any:
        out = super().encode_result(method, result)
        if method == "engine_getPayloadV2":
            out["executionPayload"].update(blobGasUsed="0x0", excessBlobGas="0x0")
        return out


class LateForkEndpoint(EmbeddedExecutionEndpoint):
    """Activates every fork one slot (12 s) later than configured."""

    def __init__(self, secret: bytes, schedule: ForkSchedule, **kwargs: Any) -> None:
        late = ForkSchedule(
            schedule.capella_time + 12, schedule.deneb_time + 12, schedule.genesis_time
        )
        super().__init__(secret, late, **kwargs)


# name -> (target factory, harness test expected to fail, property named in the failure)
BROKEN: dict[str, tuple[Any, str, str]] = {
    "codec drops a field": (
        lambda: EngineTarget(codec=DroppingCodec(), name="dropping-codec"),
        "test_cross_fork_conversion",
        "engine JSON codec preserves every payload field",
    ),
    "container fields swapped": (
        lambda: EngineTarget(types=SwappedTypes(), name="swapped-container"),
        "test_ssz_static_vectors",
        "hash_tree_root matches consensus-spec-tests",
    ),
    "VALID to a wrong block hash": (
        lambda: EngineTarget(endpoint_factory=ValidWrongHashEndpoint, name="valid-wrong-hash"),
        "test_payload_validation",
        "newPayload rejects a wrong block hash",
    ),
    "accepts an expired JWT": (
        lambda: EngineTarget(endpoint_factory=ExpiredJwtEndpoint, name="expired-jwt"),
        "test_jwt_authentication",
        "expired JWT refused",
    ),
    "V3 fields on V2": (
        lambda: EngineTarget(endpoint_factory=V3OnV2Endpoint, name="v3-on-v2"),
        "test_every_method_and_version",
        "responses match the method version's schema",
    ),
    "forks activate late": (
        lambda: EngineTarget(endpoint_factory=LateForkEndpoint, name="late-fork"),
        "test_block_production",
        "fork transitions at the configured blocks",
    ),
}
