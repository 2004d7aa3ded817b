"""The framework's BLS oracle: it passes the consensus-spec vectors, agrees with py_ecc and with
the reference node's wrapper, refuses what the spec refuses, and imports no system under test."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alys_node.crypto import bls as node_bls
from alys_test_framework.harness.governance.kit.attacks import (
    G2_OFF_SUBGROUP,
    TORSION_G1,
    add_torsion,
    rogue_key,
)
from alys_test_framework.oracles import bls

SK = bls.key_gen(bytes(range(32)))
PK = bls.sk_to_pk(SK)


def test_every_vector_passes_and_every_operation_is_covered() -> None:
    vectors = bls.load_vectors()
    failures = [(c["name"], d) for c in vectors for ok, d in [bls.run_case(bls, c)] if not ok]
    assert not failures
    ops = Counter(c["operation"] for c in vectors)
    assert set(ops) == {
        "sign", "verify", "aggregate", "aggregate_verify", "fast_aggregate_verify",
        "eth_aggregate_pubkeys", "eth_fast_aggregate_verify",
    }  # fmt: skip
    assert any(c["output"] is None for c in vectors) and any(c["output"] is False for c in vectors)


def test_vectors_are_the_frameworks_own_copy() -> None:
    from importlib import resources

    path = resources.files("alys_test_framework.data").joinpath("bls/bls_vectors.json")
    assert path.is_file()
    assert all(c["source"].startswith("ethereum/consensus-spec-tests/") for c in bls.load_vectors())


def test_run_case_fails_a_suite_that_breaks_a_vector() -> None:
    class AcceptsEverything:
        def __getattr__(self, name: str) -> object:
            return lambda *a, **k: True

    results = [bls.run_case(AcceptsEverything(), c) for c in bls.load_vectors()]
    assert any(not ok for ok, _ in results)


@settings(max_examples=3, deadline=None, database=None)
@given(ikm=st.binary(min_size=32, max_size=32), msg=st.binary(max_size=64))
def test_agrees_with_py_ecc(ikm: bytes, msg: bytes) -> None:
    sk = bls.key_gen(ikm)
    assert int.from_bytes(sk, "big") == bls.reference.KeyGen(ikm)
    assert bls.sk_to_pk(sk) == bls.reference_sk_to_pk(sk)
    sig = bls.sign(sk, msg)
    assert sig == bls.reference_sign(sk, msg)
    assert bls.verify(bls.sk_to_pk(sk), msg, sig) and bls.reference_verify(
        bls.sk_to_pk(sk), msg, sig
    )
    assert bls.pop_prove(sk) == bytes(bls.reference.PopProve(int.from_bytes(sk, "big")))


@settings(max_examples=25, deadline=None, database=None)
@given(ikm=st.binary(min_size=32, max_size=32), msg=st.binary(max_size=64), flip=st.integers(0, 95))
def test_agrees_with_the_node_wrapper(ikm: bytes, msg: bytes, flip: int) -> None:
    """Same bytes as the reference node's wrapper; a flipped signature byte fails in both."""
    sk = bls.key_gen(ikm)
    assert sk == node_bls.key_gen(ikm)
    sig = bls.sign(sk, msg)
    assert sig == node_bls.sign(sk, msg) and bls.pop_prove(sk) == node_bls.pop_prove(sk)
    bad = bytearray(sig)
    bad[flip] ^= 1
    assert bls.verify(bls.sk_to_pk(sk), msg, bytes(bad)) is False
    assert node_bls.verify(bls.sk_to_pk(sk), msg, bytes(bad)) is False


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("identity key", lambda: bls.verify(bls.G1_POINT_AT_INFINITY, b"m", bls.G2_POINT_AT_INFINITY)),
        ("no keys", lambda: bls.fast_aggregate_verify([], b"m", bls.G2_POINT_AT_INFINITY)),
        ("cancelling keys", lambda: bls.fast_aggregate_verify([PK, bls.negate_pubkey(PK)], b"m", bls.G2_POINT_AT_INFINITY)),
        ("torsion key", lambda: bls.verify(TORSION_G1, b"m", bls.sign(SK, b"m"))),
        ("key + torsion", lambda: bls.verify(add_torsion(PK), b"m", bls.sign(SK, b"m"))),
        ("short key", lambda: bls.verify(PK[:47], b"m", bls.sign(SK, b"m"))),
        ("str message", lambda: bls.verify(PK, "m", bls.sign(SK, b"m"))),  # type: ignore[arg-type]
        ("off-subgroup signature", lambda: bls.verify(PK, b"m", G2_OFF_SUBGROUP)),
        ("pop under the message tag", lambda: bls.pop_verify(PK, bls.sign(SK, PK))),
        ("no messages", lambda: bls.aggregate_verify([], [], bls.G2_POINT_AT_INFINITY)),
    ],
)  # fmt: skip
def test_verifiers_refuse_without_raising(label: str, answer: object) -> None:
    assert answer() is False, label  # type: ignore[operator]


def test_producers_raise_value_error() -> None:
    for call in (
        lambda: bls.sign(bytes(32), b"m"),
        lambda: bls.sign(SK[:31], b"m"),
        lambda: bls.aggregate([]),
        lambda: bls.aggregate([G2_OFF_SUBGROUP]),
        lambda: bls.aggregate_pubkeys([bls.G1_POINT_AT_INFINITY]),
        lambda: bls.key_gen(b"short"),
    ):
        with pytest.raises(ValueError):
            call()


def test_eth_fast_aggregate_verify_accepts_the_empty_identity_case_only() -> None:
    assert bls.eth_fast_aggregate_verify([], b"m", bls.G2_POINT_AT_INFINITY)
    assert not bls.eth_fast_aggregate_verify([], b"m", bls.sign(SK, b"m"))


def test_rogue_key_forges_without_pop_and_has_no_valid_pop() -> None:
    victims = [bls.sk_to_pk(bls.key_gen(bytes([i]) * 32)) for i in (1, 2)]
    attacker = bls.key_gen(bytes([9]) * 32)
    rogue = rogue_key(victims, attacker)
    forged = bls.sign(attacker, b"steal")
    assert bls.fast_aggregate_verify([*victims, rogue], b"steal", forged)  # why PoP exists
    assert not bls.pop_verify(rogue, bls.pop_prove(attacker))


def test_oracle_and_harness_import_no_system_under_test() -> None:
    code = (
        "import sys, alys_test_framework.oracles.bls, alys_test_framework.harness.governance\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('alys_node', 'alys_actors'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
