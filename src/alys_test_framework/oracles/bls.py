"""BLS12-381 signatures as the specifications define them, to judge a target's BLS suite.

Ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`` (IETF draft-irtf-cfrg-bls-signature-05,
proof-of-possession scheme) with Ethereum's two extensions (consensus-specs, phase0 and altair
``bls.md``). Written on pyblst's group operations directly, not on any target's wrapper; py_ecc
(the IETF reference implementation, ~100x slower) is the cross-check, and the consensus-spec
vectors shipped in ``alys_test_framework/data/bls`` pin both.

Rules (each function below is one of them):
- KeyValidate(pk): 48 bytes that decode to a point of the r-order subgroup of G1 other than the
  identity. Signatures: 96 bytes that decode to a point of the r-order subgroup of G2 (the
  identity is a valid signature encoding; it verifies for nothing).
- Sign(sk, m) = sk * H(m) with sk in [1, r-1]; PopProve(sk) signs the compressed pk under POP_DST.
- Verify, PopVerify: KeyValidate(pk) and e(pk, H(m)) == e(g1, sig).
- Aggregate: a non-empty list of valid signatures, summed. eth_aggregate_pubkeys: a non-empty
  list of KeyValidate'd keys, summed.
- FastAggregateVerify: a non-empty list of KeyValidate'd keys whose sum also passes KeyValidate
  (keys that cancel out never verify), then Verify against that sum.
- AggregateVerify: non-empty, equal-length keys and messages (under PoP, messages need not be
  distinct), every key valid, prod e(pk_i, H(m_i)) == e(g1, sig).
- eth_fast_aggregate_verify: no keys and the identity signature is True; otherwise as
  FastAggregateVerify.
- Verifiers never raise: bad input answers False. Producers (sign, aggregate, key generation)
  raise ValueError on bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pyblst
from eth_typing import BLSPubkey, BLSSignature
from py_ecc.bls import G2ProofOfPossession as reference

DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
SECRET_KEY_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH = 32, 48, 96
G1_POINT_AT_INFINITY = b"\xc0" + bytes(47)
G2_POINT_AT_INFINITY = b"\xc0" + bytes(95)
G1_GENERATOR = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac58"
    "6c55e83ff97a1aeffb3af00adb22c6bb"
)

_G1 = pyblst.BlstP1Element.uncompress(G1_GENERATOR)
_P1_ZERO = pyblst.BlstP1Element()
_P2_ZERO = pyblst.BlstP2Element()


# -- decoding (raise ValueError) ------------------------------------------------------------
def _exact(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what} must be bytes, got {type(value).__name__}")
    data = bytes(value)
    if len(data) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(data)}")
    return data


def _message(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"message must be bytes, got {type(value).__name__}")
    return bytes(value)


@lru_cache(maxsize=4096)
def _key_point(data: bytes) -> pyblst.BlstP1Element:
    point = pyblst.BlstP1Element.uncompress(data)  # blst: encoding + subgroup check
    if point == _P1_ZERO:
        raise ValueError("public key is the identity")
    return point


def public_key_point(pk: object) -> pyblst.BlstP1Element:
    """KeyValidate, returning the point (cached: federations verify against fixed keys)."""
    return _key_point(_exact(pk, PUBLIC_KEY_LENGTH, "public key"))


def signature_point(sig: object) -> pyblst.BlstP2Element:
    return pyblst.BlstP2Element.uncompress(_exact(sig, SIGNATURE_LENGTH, "signature"))


def secret_scalar(sk: object) -> int:
    value = int.from_bytes(_exact(sk, SECRET_KEY_LENGTH, "secret key"), "big")
    if not 0 < value < CURVE_ORDER:
        raise ValueError("secret key must be in [1, r-1]")
    return value


def _list(items: object, what: str) -> list[Any]:
    if isinstance(items, (bytes, bytearray, memoryview, str)) or not isinstance(items, Sequence):
        raise ValueError(f"{what} must be a list")
    if not items:
        raise ValueError(f"{what} must not be empty")
    return list(items)


def _pairing_check(point: pyblst.BlstP1Element, message: bytes, sig: Any, dst: bytes) -> bool:
    h = pyblst.BlstP2Element.hash_to_group(message, dst)
    return bool(pyblst.final_verify(pyblst.miller_loop(point, h), pyblst.miller_loop(_G1, sig)))


# -- producers (raise ValueError) -----------------------------------------------------------
def key_gen(ikm: bytes, key_info: bytes = b"") -> bytes:
    """IETF KeyGen (HKDF-SHA256 with the salt loop), as py_ecc implements it."""
    if not isinstance(ikm, (bytes, bytearray)) or len(ikm) < 32:
        raise ValueError("ikm must be at least 32 bytes")
    return int(reference.KeyGen(bytes(ikm), bytes(key_info))).to_bytes(SECRET_KEY_LENGTH, "big")


def sk_to_pk(sk: bytes) -> bytes:
    return _G1.scalar_mul(secret_scalar(sk)).compress()


def sign_with_dst(sk: bytes, message: bytes, dst: bytes) -> bytes:
    """sk * H(message) under any tag: Sign and PopProve are this with DST and POP_DST."""
    scalar = secret_scalar(sk)
    return pyblst.BlstP2Element.hash_to_group(_message(message), dst).scalar_mul(scalar).compress()


def sign(sk: bytes, message: bytes) -> bytes:
    return sign_with_dst(sk, message, DST)


def pop_prove(sk: bytes) -> bytes:
    return sign_with_dst(sk, sk_to_pk(sk), POP_DST)


def aggregate(signatures: Sequence[bytes]) -> bytes:
    total = _P2_ZERO
    for sig in _list(signatures, "signatures"):
        total = total + signature_point(sig)
    return total.compress()


def aggregate_pubkeys(pubkeys: Sequence[bytes]) -> bytes:
    total = _P1_ZERO
    for pk in _list(pubkeys, "public keys"):
        total = total + public_key_point(pk)
    return total.compress()


# -- verifiers (never raise) ----------------------------------------------------------------
def _answer(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except (ValueError, TypeError):
        return False


def key_validate(pk: object) -> bool:
    return _answer(lambda: public_key_point(pk) is not None)


def verify(pk: bytes, message: bytes, signature: bytes) -> bool:
    return _answer(
        lambda: _pairing_check(
            public_key_point(pk), _message(message), signature_point(signature), DST
        )
    )


def pop_verify(pk: bytes, proof: bytes) -> bool:
    return _answer(
        lambda: _pairing_check(public_key_point(pk), bytes(pk), signature_point(proof), POP_DST)
    )


def fast_aggregate_verify(pubkeys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    def check() -> bool:
        total = _P1_ZERO
        for pk in _list(pubkeys, "public keys"):
            total = total + public_key_point(pk)
        if total == _P1_ZERO:
            return False
        return _pairing_check(total, _message(message), signature_point(signature), DST)

    return _answer(check)


def eth_fast_aggregate_verify(pubkeys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    if isinstance(pubkeys, (list, tuple)) and not pubkeys:
        return bytes(signature) == G2_POINT_AT_INFINITY
    return fast_aggregate_verify(pubkeys, message, signature)


def aggregate_verify(pubkeys: Sequence[bytes], messages: Sequence[bytes], signature: bytes) -> bool:
    def check() -> bool:
        pks, msgs = _list(pubkeys, "public keys"), _list(messages, "messages")
        if len(pks) != len(msgs):
            return False
        sig = signature_point(signature)
        acc = None
        for pk, msg in zip(pks, msgs, strict=True):
            h = pyblst.BlstP2Element.hash_to_group(_message(msg), DST)
            ml = pyblst.miller_loop(public_key_point(pk), h)
            acc = ml if acc is None else acc * ml
        return bool(pyblst.final_verify(acc, pyblst.miller_loop(_G1, sig)))

    return _answer(check)


# -- the py_ecc second opinion (pure Python, ~0.5 s a signature) ---------------------------
def reference_sk_to_pk(sk: bytes) -> bytes:
    return bytes(reference.SkToPk(secret_scalar(sk)))


def reference_sign(sk: bytes, message: bytes) -> bytes:
    return bytes(reference.Sign(secret_scalar(sk), _message(message)))


def reference_verify(pk: bytes, message: bytes, signature: bytes) -> bool:
    return _answer(
        lambda: bool(reference.Verify(BLSPubkey(pk), _message(message), BLSSignature(signature)))
    )


# -- group arithmetic an attacker uses --------------------------------------------------------
def g1_combine(plus: Sequence[bytes] = (), minus: Sequence[bytes] = (), scalar: int = 0) -> bytes:
    """scalar*g1 + sum(plus) - sum(minus), compressed: rogue keys and cancelling keys."""
    total = _G1.scalar_mul(scalar) if scalar else _P1_ZERO
    for pk in plus:
        total = total + public_key_point(pk)
    for pk in minus:
        total = total + (-public_key_point(pk))
    return total.compress()


def negate_pubkey(pk: bytes) -> bytes:
    """-pk: flips the sign bit of a compressed G1 point."""
    return bytes([pk[0] ^ 0x20]) + bytes(pk[1:])


# -- conformance vectors --------------------------------------------------------------------
@cache
def load_vectors() -> tuple[dict[str, Any], ...]:
    """The consensus-spec-tests ``general/*/bls`` cases (CC0), shipped with the framework."""
    data = resources.files("alys_test_framework.data").joinpath("bls/bls_vectors.json")
    return tuple(json.loads(data.read_text()))


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


def run_case(suite: Any, case: dict[str, Any]) -> tuple[bool, str]:
    """(passed, detail) of one vector on ``suite``; ``output: null`` means it must raise."""
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


__all__ = [
    "CURVE_ORDER",
    "DST",
    "G1_GENERATOR",
    "G1_POINT_AT_INFINITY",
    "G2_POINT_AT_INFINITY",
    "POP_DST",
    "aggregate",
    "aggregate_pubkeys",
    "aggregate_verify",
    "eth_fast_aggregate_verify",
    "fast_aggregate_verify",
    "g1_combine",
    "key_gen",
    "key_validate",
    "load_vectors",
    "negate_pubkey",
    "pop_prove",
    "pop_verify",
    "public_key_point",
    "reference",
    "reference_sign",
    "reference_sk_to_pk",
    "reference_verify",
    "run_case",
    "secret_scalar",
    "sign",
    "sign_with_dst",
    "signature_point",
    "sk_to_pk",
    "verify",
]
