"""Every Ethereum consensus-spec BLS case (CC0, shipped in alys_node/crypto/data) passes."""

from __future__ import annotations

import json

import pytest

from alys_node.crypto import bls
from alys_node.crypto.conformance import VECTORS_PATH

VECTORS = json.loads(VECTORS_PATH.read_text())


def _b(h: str) -> bytes:
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def _run(op: str, inp):  # noqa: ANN001, ANN202 - mirrors the JSON shape
    if op == "sign":
        return bls.sign(_b(inp["privkey"]), _b(inp["message"]))
    if op == "verify":
        return bls.verify(_b(inp["pubkey"]), _b(inp["message"]), _b(inp["signature"]))
    if op == "aggregate":
        return bls.aggregate([_b(s) for s in inp])
    if op == "aggregate_verify":
        return bls.aggregate_verify(
            [_b(p) for p in inp["pubkeys"]], [_b(m) for m in inp["messages"]], _b(inp["signature"])
        )
    if op == "fast_aggregate_verify":
        return bls.fast_aggregate_verify(
            [_b(p) for p in inp["pubkeys"]], _b(inp["message"]), _b(inp["signature"])
        )
    if op == "eth_fast_aggregate_verify":
        return bls.eth_fast_aggregate_verify(
            [_b(p) for p in inp["pubkeys"]], _b(inp["message"]), _b(inp["signature"])
        )
    if op == "eth_aggregate_pubkeys":
        return bls.aggregate_pubkeys([_b(p) for p in inp])
    raise AssertionError(f"unknown operation {op}")


def test_vectors_cover_every_operation() -> None:
    ops = {c["operation"] for c in VECTORS}
    assert ops == {
        "sign",
        "verify",
        "aggregate",
        "aggregate_verify",
        "fast_aggregate_verify",
        "eth_aggregate_pubkeys",
        "eth_fast_aggregate_verify",
    }
    assert len(VECTORS) >= 40


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_bls_vector(case: dict) -> None:
    op, inp, expected = case["operation"], case["input"], case["output"]
    if expected is None:
        with pytest.raises(ValueError):
            _run(op, inp)
        return
    got = _run(op, inp)
    if isinstance(expected, bool):
        assert got is expected
    else:
        assert got == _b(expected)


def test_conformance_runner_used_by_the_harness_passes_every_case() -> None:
    """The harness judges targets with run_case; it must agree with the checks above."""
    from alys_node.crypto.conformance import load_vectors, run_case

    assert list(load_vectors()) == VECTORS
    failures = [c["name"] for c in VECTORS if not run_case(bls, c)[0]]
    assert not failures
