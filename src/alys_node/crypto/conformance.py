"""Run Ethereum's BLS conformance vectors against any BLS suite (module-like object).

Shipped with the node so a running harness can check a target without the repository's test
tree. The vectors are CC0, copied from ethereum/consensus-spec-tests (general/*/bls).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_PATH = Path(__file__).with_name("data") / "bls_vectors.json"


@cache
def load_vectors(path: Path = VECTORS_PATH) -> tuple[dict, ...]:
    return tuple(json.loads(Path(path).read_text()))


def _b(h: str) -> bytes:
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def _call(suite: Any, op: str, inp: Any) -> Any:
    if op == "sign":
        return suite.sign(_b(inp["privkey"]), _b(inp["message"]))
    if op == "verify":
        return suite.verify(_b(inp["pubkey"]), _b(inp["message"]), _b(inp["signature"]))
    if op == "aggregate":
        return suite.aggregate([_b(s) for s in inp])
    if op == "aggregate_verify":
        pks, msgs = [_b(p) for p in inp["pubkeys"]], [_b(m) for m in inp["messages"]]
        return suite.aggregate_verify(pks, msgs, _b(inp["signature"]))
    if op in ("fast_aggregate_verify", "eth_fast_aggregate_verify"):
        fn = getattr(suite, op, None) or suite.fast_aggregate_verify
        return fn([_b(p) for p in inp["pubkeys"]], _b(inp["message"]), _b(inp["signature"]))
    if op == "eth_aggregate_pubkeys":
        return suite.aggregate_pubkeys([_b(p) for p in inp])
    raise ValueError(f"unknown operation {op!r}")


def run_case(suite: Any, case: dict) -> tuple[bool, str]:
    """(passed, detail). ``output: null`` means the call must raise ValueError."""
    op, expected = case["operation"], case["output"]
    try:
        got = _call(suite, op, case["input"])
    except ValueError as exc:
        if expected is None:
            return True, "raised as expected"
        return False, f"raised {exc!s:.80} but expected {str(expected)[:20]}"
    except Exception as exc:  # a crash is a failure, never an acceptance
        return False, f"crashed with {type(exc).__name__}: {exc!s:.80}"
    if expected is None:
        return False, "accepted input that must be rejected"
    if isinstance(expected, bool):
        return got is expected, f"returned {got!r}, expected {expected}"
    ok = isinstance(got, (bytes, bytearray)) and bytes(got) == _b(expected)
    return ok, "output matches" if ok else "output differs from the vector"
