"""BLS keys, signatures and federation aggregates, made with the framework's BLS oracle.

Keys come from a fixed pool (``key_pool``) derived from index-numbered seeds: key generation is
the slow part, and a shrunk counterexample should name "member 2", not 32 random bytes. Invalid
signatures come in named kinds, each one a refusal rule of the ciphersuite
(BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from hypothesis import strategies as st

from ..oracles import bls

MAX_POOL = 16
INVALID_SIGNATURES = (
    "random_bytes",  # not a curve point (or not in the subgroup)
    "identity",  # the point at infinity
    "pop_tag",  # signed with the proof-of-possession domain instead
    "truncated",  # 95 bytes
    "other_message",  # a valid signature over different bytes
    "other_key",  # a valid signature by another member
)


@dataclass(frozen=True)
class Key:
    index: int
    sk: bytes
    pk: bytes

    def __repr__(self) -> str:  # counterexamples name members, not secrets
        return f"Key({self.index})"


@functools.cache
def key_pool(size: int = MAX_POOL) -> tuple[Key, ...]:
    out = []
    for i in range(size):
        sk = bls.key_gen(hashlib.sha256(b"alys-generators-key-%d" % i).digest())
        out.append(Key(i, sk, bls.sk_to_pk(sk)))
    return tuple(out)


def bls_keys(pool: int = MAX_POOL) -> st.SearchStrategy[Key]:
    return st.integers(0, pool - 1).map(lambda i: key_pool(pool)[i])


def messages() -> st.SearchStrategy[bytes]:
    return st.binary(min_size=0, max_size=64)


@dataclass(frozen=True)
class SignedMessage:
    key: Key
    message: bytes
    signature: bytes


def bls_signatures() -> st.SearchStrategy[SignedMessage]:
    """Valid signatures: ``bls.verify(key.pk, message, signature)`` holds for every case."""
    return st.builds(lambda k, m: SignedMessage(k, m, bls.sign(k.sk, m)), bls_keys(), messages())


@dataclass(frozen=True)
class BadSignature:
    kind: str
    key: Key
    message: bytes
    signature: bytes


def invalid_bls_signatures() -> st.SearchStrategy[BadSignature]:
    """Signatures that must not verify under ``key.pk`` over ``message``, one kind each."""

    def build(kind: str, k: Key, m: bytes) -> BadSignature:
        other = key_pool()[(k.index + 1) % MAX_POOL]
        sig = {
            "random_bytes": lambda: hashlib.shake_256(b"junk" + m).digest(96),
            "identity": lambda: bls.G2_POINT_AT_INFINITY,
            "pop_tag": lambda: bls.sign_with_dst(k.sk, m, bls.POP_DST),
            "truncated": lambda: bls.sign(k.sk, m)[:95],
            "other_message": lambda: bls.sign(k.sk, m + b"!"),
            "other_key": lambda: bls.sign(other.sk, m),
        }[kind]()
        return BadSignature(kind, k, m, sig)

    return st.builds(build, st.sampled_from(INVALID_SIGNATURES), bls_keys(), messages())


@dataclass(frozen=True)
class FederationSignature:
    """t-of-n: the federation, the signing subset and their aggregate over one message."""

    members: tuple[Key, ...]
    threshold: int
    message: bytes
    signers: tuple[int, ...]  # member indexes that signed
    aggregate: bytes

    @property
    def meets_threshold(self) -> bool:
        return len(set(self.signers)) >= self.threshold


@st.composite
def federation_signatures(
    draw: st.DrawFn, max_members: int = 7, below_threshold: bool | None = None
) -> FederationSignature:
    """A federation and an aggregate by some of its members; ``below_threshold`` forces the
    signer count under (True) or at/above (False) the threshold, None lets it vary."""
    n = draw(st.integers(1, max_members))
    t = draw(st.integers(1, n))
    members = key_pool()[:n]
    lo, hi = (0, t - 1) if below_threshold else (t, n) if below_threshold is False else (0, n)
    count = draw(st.integers(lo, hi))
    signers = tuple(sorted(draw(st.permutations(range(n)))[:count]))
    msg = draw(messages())
    agg = bls.aggregate([bls.sign(members[i].sk, msg) for i in signers]) if signers else b""
    return FederationSignature(members, t, msg, signers, agg)
