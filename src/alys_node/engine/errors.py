"""Engine API error codes (execution-apis common.md) as one exception type."""

from __future__ import annotations

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNKNOWN_PAYLOAD = -38001
INVALID_FORKCHOICE_STATE = -38002
INVALID_PAYLOAD_ATTRIBUTES = -38003
TOO_LARGE_REQUEST = -38004
UNSUPPORTED_FORK = -38005

MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    UNKNOWN_PAYLOAD: "Unknown payload",
    INVALID_FORKCHOICE_STATE: "Invalid forkchoice state",
    INVALID_PAYLOAD_ATTRIBUTES: "Invalid payload attributes",
    TOO_LARGE_REQUEST: "Too large request",
    UNSUPPORTED_FORK: "Unsupported fork",
}


class EngineError(Exception):
    """A JSON-RPC error answer; ``code`` is one of the constants above."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        base = MESSAGES.get(code, "Server error")
        super().__init__(f"{base}: {detail}" if detail else base)

    def to_json(self) -> dict:
        return {"code": self.code, "message": str(self)}
