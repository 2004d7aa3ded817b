"""IETF BLS signatures, proof-of-possession ciphersuite, exactly as Ethereum uses them.

Ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``: public keys are compressed G1 points
(48 bytes), signatures compressed G2 points (96 bytes), secret keys 32-byte big-endian scalars.

pyblst exposes raw group operations (it was written for Cardano's Plutus builtins), not the
signature scheme. The scheme's safety rules therefore live here, written by hand and tested
against the Ethereum conformance vectors: a public key must not be the identity, key and
signature lists must not be empty, every point must be in the prime-order subgroup (blst's
``uncompress`` performs that check and we rely on it), and every length is checked first.
A first wrapper that skipped these returned True for ``fast_aggregate_verify([], infinity)``.

Verify-type functions never raise on bad input: they answer False, because a verifier facing
network data must not be crashable. Producing functions (sign, aggregate, aggregate_pubkeys,
key_gen, sk_to_pk) raise ValueError: a caller asking to produce from invalid input has a bug.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from functools import lru_cache

import pyblst

DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
SECRET_KEY_LENGTH = 32
PUBLIC_KEY_LENGTH = 48
SIGNATURE_LENGTH = 96
G1_POINT_AT_INFINITY = b"\xc0" + b"\x00" * 47
G2_POINT_AT_INFINITY = b"\xc0" + b"\x00" * 95

_G1_GENERATOR = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac58"
    "6c55e83ff97a1aeffb3af00adb22c6bb"
)
_G1 = pyblst.BlstP1Element.uncompress(_G1_GENERATOR)
_P1_ZERO = pyblst.BlstP1Element()
_P2_ZERO = pyblst.BlstP2Element()
_PK_CACHE_SIZE = 16384


class PublicKey:
    """A parsed, validated public key.

    Parsing (decompression + subgroup check, ~0.1 ms) dominates aggregate verification over
    many signers, so callers that verify repeatedly against a fixed federation keep these
    objects (or rely on the module's bounded LRU cache keyed by the compressed bytes).
    """

    __slots__ = ("data", "point")

    def __init__(self, data: bytes, point: pyblst.BlstP1Element) -> None:
        self.data = data
        self.point = point

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Parse and validate (KeyValidate); raises ValueError. Results are cached."""
        return _parse_pubkey(_as_bytes(data, PUBLIC_KEY_LENGTH, "public key"))

    def __bytes__(self) -> bytes:
        return self.data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"PublicKey(0x{self.data.hex()[:16]}...)"


PubkeyLike = bytes | bytearray | memoryview | PublicKey


def _as_bytes(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what} must be bytes, got {type(value).__name__}")
    data = bytes(value)
    if len(data) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(data)}")
    return data


def _as_message(message: object) -> bytes:
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise ValueError(f"message must be bytes, got {type(message).__name__}")
    return bytes(message)


@lru_cache(maxsize=_PK_CACHE_SIZE)
def _parse_pubkey(data: bytes) -> PublicKey:
    # KeyValidate: a valid encoding of a subgroup point that is not the identity.
    try:
        point = pyblst.BlstP1Element.uncompress(data)
    except ValueError as exc:
        raise ValueError(f"invalid public key encoding or not in subgroup: {exc}") from None
    if point == _P1_ZERO:
        raise ValueError("public key is the identity (point at infinity)")
    return PublicKey(data, point)


def _pubkey(pk: PubkeyLike) -> PublicKey:
    if isinstance(pk, PublicKey):
        return pk
    return _parse_pubkey(_as_bytes(pk, PUBLIC_KEY_LENGTH, "public key"))


def clear_pubkey_cache() -> None:
    """Forget parsed keys (benchmarks use this to measure the from-bytes path honestly)."""
    _parse_pubkey.cache_clear()


def _signature_point(sig: object) -> pyblst.BlstP2Element:
    # Signatures may be the identity (aggregate of nothing meaningful), but must be in G2.
    data = _as_bytes(sig, SIGNATURE_LENGTH, "signature")
    try:
        return pyblst.BlstP2Element.uncompress(data)
    except ValueError as exc:
        raise ValueError(f"invalid signature encoding or not in subgroup: {exc}") from None


def _secret_scalar(sk: object) -> int:
    data = _as_bytes(sk, SECRET_KEY_LENGTH, "secret key")
    value = int.from_bytes(data, "big")
    if not 0 < value < CURVE_ORDER:
        raise ValueError("secret key must be in [1, r-1]")
    return value


def _hash_to_g2(message: bytes, dst: bytes) -> pyblst.BlstP2Element:
    return pyblst.BlstP2Element.hash_to_group(message, dst)


def _core_verify(
    point: pyblst.BlstP1Element, message: bytes, sig: pyblst.BlstP2Element, dst: bytes
) -> bool:
    # e(pk, H(m)) == e(g1, sig), one shared final exponentiation.
    return bool(
        pyblst.final_verify(
            pyblst.miller_loop(point, _hash_to_g2(message, dst)), pyblst.miller_loop(_G1, sig)
        )
    )


# -- key management ------------------------------------------------------------------------
def key_gen(ikm: bytes, key_info: bytes = b"") -> bytes:
    """IETF KeyGen (HKDF-SHA256, salt loop); identical keys to py_ecc's G2ProofOfPossession."""
    if not isinstance(ikm, (bytes, bytearray)) or len(ikm) < 32:
        raise ValueError("ikm must be at least 32 bytes")
    if not isinstance(key_info, (bytes, bytearray)):
        raise ValueError("key_info must be bytes")
    salt = b"BLS-SIG-KEYGEN-SALT-"
    length = 48  # ceil(1.5 * ceil(log2(r)) / 8)
    sk = 0
    while sk == 0:
        salt = hashlib.sha256(salt).digest()
        prk = hmac.new(salt, bytes(ikm) + b"\x00", hashlib.sha256).digest()
        info = bytes(key_info) + length.to_bytes(2, "big")
        okm, block = b"", b""
        for i in range(1, 3):  # two SHA-256 blocks cover 48 bytes
            block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
            okm += block
        sk = int.from_bytes(okm[:length], "big") % CURVE_ORDER
    return sk.to_bytes(SECRET_KEY_LENGTH, "big")


def sk_to_pk(sk: bytes) -> bytes:
    return _G1.scalar_mul(_secret_scalar(sk)).compress()


# -- signing -------------------------------------------------------------------------------
def sign(sk: bytes, message: bytes) -> bytes:
    scalar = _secret_scalar(sk)
    return _hash_to_g2(_as_message(message), DST).scalar_mul(scalar).compress()


def pop_prove(sk: bytes) -> bytes:
    """Proof of possession: a signature over the own public key under the POP tag."""
    scalar = _secret_scalar(sk)
    pk = _G1.scalar_mul(scalar).compress()
    return _hash_to_g2(pk, POP_DST).scalar_mul(scalar).compress()


def _as_list(items: object, what: str) -> list:
    if isinstance(items, (bytes, bytearray, memoryview, str)):
        raise ValueError(f"{what} must be a list, not a single byte string")
    try:
        out = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(f"{what} must be a list, got {type(items).__name__}") from None
    if not out:
        raise ValueError(f"{what} must not be empty")
    return out


def aggregate(signatures: Sequence[bytes]) -> bytes:
    signatures = _as_list(signatures, "signatures")
    total = _P2_ZERO
    for sig in signatures:
        total = total + _signature_point(sig)
    return total.compress()


def aggregate_pubkeys(pubkeys: Sequence[PubkeyLike]) -> bytes:
    """Sum of validated public keys (Ethereum's eth_aggregate_pubkeys semantics)."""
    pubkeys = _as_list(pubkeys, "public keys")
    total = _P1_ZERO
    for pk in pubkeys:
        total = total + _pubkey(pk).point
    return total.compress()


# -- verification (never raises) -----------------------------------------------------------
def verify(pk: PubkeyLike, message: bytes, signature: bytes) -> bool:
    try:
        return _core_verify(
            _pubkey(pk).point, _as_message(message), _signature_point(signature), DST
        )
    except (ValueError, TypeError):
        return False


def pop_verify(pk: PubkeyLike, proof: bytes) -> bool:
    try:
        key = _pubkey(pk)
        return _core_verify(key.point, key.data, _signature_point(proof), POP_DST)
    except (ValueError, TypeError):
        return False


def fast_aggregate_verify(pubkeys: Sequence[PubkeyLike], message: bytes, signature: bytes) -> bool:
    """All ``pubkeys`` signed the same ``message``. Needs PoP-registered keys (rogue-key defence)."""
    try:
        total = _P1_ZERO
        pubkeys = _as_list(pubkeys, "public keys")
        for pk in pubkeys:
            total = total + _pubkey(pk).point
        if total == _P1_ZERO:  # keys cancelling out would verify the identity signature
            return False
        return _core_verify(total, _as_message(message), _signature_point(signature), DST)
    except (ValueError, TypeError):
        return False


def eth_fast_aggregate_verify(
    pubkeys: Sequence[PubkeyLike], message: bytes, signature: bytes
) -> bool:
    """Ethereum's variant: no keys and the identity signature is accepted (sync committees)."""
    if isinstance(pubkeys, (list, tuple)) and not pubkeys and signature == G2_POINT_AT_INFINITY:
        return True
    return fast_aggregate_verify(pubkeys, message, signature)


def aggregate_verify(
    pubkeys: Sequence[PubkeyLike], messages: Sequence[bytes], signature: bytes
) -> bool:
    """Each key signed its own message; under PoP messages need not be distinct."""
    try:
        pubkeys, messages = _as_list(pubkeys, "public keys"), _as_list(messages, "messages")
        if len(pubkeys) != len(messages):
            return False
        sig = _signature_point(signature)
        acc = None
        for pk, msg in zip(pubkeys, messages, strict=True):
            ml = pyblst.miller_loop(_pubkey(pk).point, _hash_to_g2(_as_message(msg), DST))
            acc = ml if acc is None else acc * ml
        return bool(pyblst.final_verify(acc, pyblst.miller_loop(_G1, sig)))
    except (ValueError, TypeError):
        return False


def verify_batch(items: Sequence[tuple[PubkeyLike, bytes, bytes]]) -> bool:
    """True only if every (pk, message, signature) is valid; about half the cost of verify each.

    Random linear combination: checks prod e(r_i pk_i, H(m_i)) == e(g1, sum r_i sig_i) with fresh
    64-bit r_i. The r_i come from the OS CSPRNG on purpose, not from a run seed: an attacker who
    could predict them could craft two invalid signatures whose errors cancel. The verdict is
    still deterministic (valid batches always pass; an invalid one passes with prob. <= 2^-64).
    An empty batch is vacuously valid. On False, callers verify items one by one to find the
    culprit.
    """
    try:
        if len(items) == 0:
            return True
        if len(items) == 1:
            pk, msg, sig = items[0]
            return verify(pk, msg, sig)
        acc = None
        sig_sum = _P2_ZERO
        for pk, msg, sig in items:
            r = secrets.randbits(64) | 1
            key = _pubkey(pk).point.scalar_mul(r)
            sig_sum = sig_sum + _signature_point(sig).scalar_mul(r)
            ml = pyblst.miller_loop(key, _hash_to_g2(_as_message(msg), DST))
            acc = ml if acc is None else acc * ml
        return bool(pyblst.final_verify(acc, pyblst.miller_loop(_G1, sig_sum)))
    except (ValueError, TypeError):
        return False


__all__ = [
    "CURVE_ORDER",
    "DST",
    "G1_POINT_AT_INFINITY",
    "G2_POINT_AT_INFINITY",
    "POP_DST",
    "PublicKey",
    "aggregate",
    "aggregate_pubkeys",
    "aggregate_verify",
    "clear_pubkey_cache",
    "eth_fast_aggregate_verify",
    "fast_aggregate_verify",
    "key_gen",
    "pop_prove",
    "pop_verify",
    "sign",
    "sk_to_pk",
    "verify",
    "verify_batch",
]
