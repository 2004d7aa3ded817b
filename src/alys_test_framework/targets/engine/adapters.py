"""The reference node's Engine JSON codec and SSZ consensus types, as the harness sees them.

Broken targets in the test suite subclass one adapter each; the harness judges what comes out
of them against the framework's oracles, never against the node's own code.
"""

from __future__ import annotations

from typing import Any

from alys_node import consensus
from alys_node.engine import codec as _codec


class EngineCodec:
    """Engine API JSON <-> Python values (ints, bytes, snake_case dicts)."""

    def decode_params(self, method: str, params: Any) -> list[Any]:
        return _codec.decode_params(method, params)

    def encode_params(self, method: str, values: list[Any]) -> list[Any]:
        return _codec.encode_params(method, values)

    def decode_result(self, method: str, result: Any) -> Any:
        return _codec.decode_result(method, result)

    def encode_result(self, method: str, value: Any) -> Any:
        return _codec.encode_result(method, value)

    def decode_object(self, shape: str, value: Any) -> dict[str, Any]:
        return _codec.decode_object(shape, value)

    def encode_object(self, shape: str, value: dict[str, Any]) -> dict[str, Any]:
        return _codec.encode_object(shape, value)


class ConsensusTypes:
    """SSZ types by (fork, name) and their conversions; values go in and out as plain objects."""

    def get_type(self, fork: str, name: str, preset: str = "mainnet") -> type:
        return consensus.get_type(fork, name, preset)

    def from_obj(self, fork: str, name: str, obj: Any, preset: str = "mainnet") -> Any:
        return consensus.from_obj_typed(self.get_type(fork, name, preset), obj)

    def to_obj(self, view: Any) -> Any:
        return consensus.to_obj(view)

    def serialize(self, view: Any) -> bytes:
        return consensus.serialize(view)

    def deserialize(self, fork: str, name: str, data: bytes, preset: str = "mainnet") -> Any:
        typ: Any = self.get_type(fork, name, preset)
        return typ.decode_bytes(data)

    def hash_tree_root(self, view: Any) -> bytes:
        return consensus.hash_tree_root(view)

    def payload_to_header(self, payload: Any) -> Any:
        return consensus.payload_to_header(payload)

    def convert_fork(self, view: Any, to_fork: str) -> Any:
        return consensus.convert_fork(view, to_fork)
