"""Engine API of the reference node: codec, JWT, client, embedded execution endpoint, EngineActor.

(Schema validation and conformance checks are the framework's, in alys_test_framework.oracles.)
"""

from .client import EngineClient, EngineHttpError, EngineRpcError
from .codec import CodecError
from .errors import EngineError
from .jwt_auth import JwtAuthError, JwtSecretError, load_secret, make_token, write_secret
from .server import EmbeddedExecutionEndpoint
from .state import ExecutionState, ForkSchedule

__all__ = [
    "CodecError",
    "EmbeddedExecutionEndpoint",
    "EngineClient",
    "EngineError",
    "EngineHttpError",
    "EngineRpcError",
    "ExecutionState",
    "ForkSchedule",
    "JwtAuthError",
    "JwtSecretError",
    "load_secret",
    "make_token",
    "write_secret",
]
