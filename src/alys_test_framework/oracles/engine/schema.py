"""OpenRPC schema validation of Engine API requests and responses (execution-apis files).

Rules:
- the schemas are the execution-apis OpenRPC files shipped in the framework's data directory
  (data/lighthouse/openrpc, SOURCES.txt names their commits), never a target's copy;
- where a stored file contradicts the spec text, the spec text wins through an overlay named
  here: latestValidHash is ``hash32 | null`` (paris.md: null for SYNCING/ACCEPTED), payloadId is
  ``bytes8 | null`` (paris.md: "DATA|null"), and newPayloadV1 answers PayloadStatusV1 whose status
  includes INVALID_BLOCK_HASH (fixed in the stored methods file itself);
- components use ``#/components/schemas/X`` references, so every check validates against one
  root document holding all components; validators are built once per method slot.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_SCHEMA_FILES: tuple[str, ...] = (
    "base_types",
    "schema_payload",
    "schema_forkchoice",
    "schema_capabilities",
    "schema_blob",
)
_METHOD_FILES = ("methods_forkchoice", "methods_capabilities", "methods_payload")


OPENRPC_DIR = Path(__file__).resolve().parents[2] / "data" / "lighthouse" / "openrpc"


def _load(name: str) -> Any:
    return yaml.safe_load((OPENRPC_DIR / f"{name}.yaml").read_text())


class OpenRpcSchemas:
    """All Engine API methods described by the packaged OpenRPC files."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        for name in _SCHEMA_FILES:
            self.components.update(_load(name) or {})
        # paris.md: latestValidHash is null for SYNCING/ACCEPTED, but the stored schema file
        # says hash32 only; without this overlay every spec-correct SYNCING answer would fail.
        status = self.components["PayloadStatusV1"]["properties"]
        status["latestValidHash"] = {
            "oneOf": [{"$ref": "#/components/schemas/hash32"}, {"type": "null"}]
        }
        # paris.md: payloadId is "DATA|null"; the stored schema file omits the null branch.
        for resp in ("ForkchoiceUpdatedResponseV1", "ForkchoiceUpdatedResponseV2"):
            self.components[resp]["properties"]["payloadId"] = {
                "oneOf": [{"$ref": "#/components/schemas/bytes8"}, {"type": "null"}]
            }
        self.methods: dict[str, dict[str, Any]] = {}
        for name in _METHOD_FILES:
            for method in _load(name) or []:
                self.methods[method["name"]] = method
        self._validators: dict[tuple[str, int], jsonschema.protocols.Validator] = {}

    def _validator(self, method: str, slot: int) -> jsonschema.protocols.Validator:
        key = (method, slot)
        if key not in self._validators:
            spec = self.methods[method]
            sub = spec["result"]["schema"] if slot < 0 else spec["params"][slot]["schema"]
            root = {"components": {"schemas": self.components}, "allOf": [sub]}
            self._validators[key] = jsonschema.Draft202012Validator(root)
        return self._validators[key]

    def validate_params(self, method: str, params: list[Any]) -> list[str]:
        """Schema violations of a request's params (empty = valid); null optional = absent."""
        if method not in self.methods:
            return [f"{method}: no OpenRPC description"]
        spec_params = self.methods[method]["params"]
        errors = []
        if len(params) > len(spec_params):
            errors.append(f"{method}: {len(params)} params, schema has {len(spec_params)}")
        for i, p in enumerate(spec_params):
            if i >= len(params) or params[i] is None:
                if p.get("required"):
                    errors.append(f"{method}: param {i} ({p['name']}) is required")
                continue
            errors += [
                f"{method} params[{i}]{_where(e)}: {e.message[:160]}"
                for e in self._validator(method, i).iter_errors(params[i])
            ]
        return errors

    def validate_component(self, name: str, value: Any) -> list[str]:
        """Violations of ``value`` against one component schema, e.g. ExecutionPayloadV2."""
        key = (f"#{name}", 0)
        if key not in self._validators:
            ref = {"$ref": f"#/components/schemas/{name}"}
            root = {"components": {"schemas": self.components}, "allOf": [ref]}
            self._validators[key] = jsonschema.Draft202012Validator(root)
        return [
            f"{name}{_where(e)}: {e.message[:160]}"
            for e in self._validators[key].iter_errors(value)
        ]

    def validate_result(self, method: str, result: Any) -> list[str]:
        if method not in self.methods:
            return [f"{method}: no OpenRPC description"]
        return [
            f"{method} result{_where(e)}: {e.message[:160]}"
            for e in self._validator(method, -1).iter_errors(result)
        ]


def _where(err: jsonschema.ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)


@cache
def schemas() -> OpenRpcSchemas:
    """The one shared instance (loading and compiling the files takes a while)."""
    return OpenRpcSchemas()
