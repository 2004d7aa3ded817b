"""Conformance of Engine API exchanges: recorded ``.io`` files and live traffic.

Rules:
- an exchange conforms when its request and response validate against the OpenRPC schemas and
  survive a strict decode + canonical re-encode with the method's own version shape (the latter
  catches extra fields, e.g. V3 fields served on V2, which the open schemas would tolerate);
- live traffic is judged with this package's codec and schemas (the spec), never the target's;
- a recorded exchange is re-encoded by the codec under test: the recording is the oracle there;
- payloadId is client-specific: only its 8-byte DATA form is compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import codec as spec_codec
from .codec import CodecError
from .schema import OpenRpcSchemas, schemas

_BYTES8 = re.compile(r"^0x[0-9a-f]{16}$")


class Codec(Protocol):
    def decode_params(self, method: str, params: Any) -> list[Any]: ...
    def encode_params(self, method: str, values: list[Any]) -> list[Any]: ...
    def decode_result(self, method: str, result: Any) -> Any: ...
    def encode_result(self, method: str, value: Any) -> Any: ...


@dataclass
class RecordedExchange:
    name: str
    comment: str
    request: dict[str, Any]
    response: dict[str, Any]


def parse_io(path: Path) -> RecordedExchange:
    """One ``.io`` file: optional ``// comment``, one ``>>`` request, one ``<<`` response."""
    req = resp = None
    comment = ""
    for line in path.read_text().splitlines():
        if line.startswith("// "):
            comment = line[3:]
        elif line.startswith(">> "):
            req = json.loads(line[3:])
        elif line.startswith("<< "):
            resp = json.loads(line[3:])
    if req is None or resp is None:
        raise ValueError(f"{path.name}: needs one '>>' request and one '<<' response line")
    return RecordedExchange(f"{path.parent.name}/{path.name}", comment, req, resp)


def load_recorded(root: Path) -> list[RecordedExchange]:
    """Every ``<method>/<case>.io`` below ``root``, in name order."""
    return [parse_io(p) for p in sorted(root.glob("*/*.io"))]


def mask_payload_id(obj: Any) -> Any:
    """payloadId is client-specific: keep only whether it is well-formed 8-byte DATA."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "payloadId" and isinstance(v, str):
                out[k] = "<bytes8>" if _BYTES8.match(v) else v
            else:
                out[k] = mask_payload_id(v)
        return out
    if isinstance(obj, list):
        return [mask_payload_id(x) for x in obj]
    return obj


def check_recorded(ex: RecordedExchange, codec: Codec, sch: OpenRpcSchemas) -> list[str]:
    """Problems of one recorded exchange (empty = conforms)."""
    method, params = ex.request["method"], ex.request.get("params", [])
    problems = [f"{ex.name}: {e}" for e in sch.validate_params(method, params)]
    try:
        again = codec.encode_params(method, codec.decode_params(method, params))
        if again != params:
            problems.append(f"{ex.name}: request re-encodes differently: {again!r:.300}")
    except (CodecError, KeyError, ValueError) as exc:
        problems.append(f"{ex.name}: request does not decode: {exc}")
    if "result" in ex.response:
        result = ex.response["result"]
        problems += [f"{ex.name}: {e}" for e in sch.validate_result(method, result)]
        try:
            again = codec.encode_result(method, codec.decode_result(method, result))
            if mask_payload_id(again) != mask_payload_id(result):
                problems.append(f"{ex.name}: response re-encodes differently: {again!r:.300}")
        except (CodecError, KeyError, ValueError) as exc:
            problems.append(f"{ex.name}: response does not decode: {exc}")
    return problems


class ExchangeChecker:
    """Observer of a live conversation: validates every exchange against the spec's codec and
    schemas and keeps the violations, each naming the method."""

    def __init__(self, codec: Codec | None = None, sch: OpenRpcSchemas | None = None) -> None:
        self.codec: Codec = codec or spec_codec
        self.schemas = sch or schemas()
        self.exchanges = 0
        self.methods: set[str] = set()
        self.request_violations: list[str] = []
        self.response_violations: list[str] = []

    def __call__(self, method: str, params: list[Any], response: dict[str, Any]) -> None:
        if not method.startswith("engine_"):  # eth_ methods have no Engine API schema
            return
        self.exchanges += 1
        self.methods.add(method)
        self.request_violations += self.schemas.validate_params(method, params)
        if "error" in response:
            err = response["error"]
            if not (isinstance(err, dict) and isinstance(err.get("code"), int)):
                self.response_violations.append(f"{method}: malformed error object {err!r:.100}")
            return
        result = response.get("result")
        self.response_violations += self.schemas.validate_result(method, result)
        try:
            again = self.codec.encode_result(method, self.codec.decode_result(method, result))
            if again != result:
                self.response_violations.append(f"{method}: result is not canonical")
        except (CodecError, KeyError, ValueError) as exc:
            self.response_violations.append(f"{method} result: {exc}")
