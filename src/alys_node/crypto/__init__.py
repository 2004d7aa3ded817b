"""Cryptography of the reference node: BLS12-381 signatures (see ``bls``)."""

from . import bls
from .bls import (
    PublicKey,
    aggregate,
    aggregate_pubkeys,
    aggregate_verify,
    fast_aggregate_verify,
    key_gen,
    pop_prove,
    pop_verify,
    sign,
    sk_to_pk,
    verify,
    verify_batch,
)

__all__ = [
    "PublicKey",
    "aggregate",
    "aggregate_pubkeys",
    "aggregate_verify",
    "bls",
    "fast_aggregate_verify",
    "key_gen",
    "pop_prove",
    "pop_verify",
    "sign",
    "sk_to_pk",
    "verify",
    "verify_batch",
]
