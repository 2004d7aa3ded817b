"""Federation members as the harness holds them: a secret key, its public key and its proof of
possession. Keys come from a seeded generator, so a run's federation replays from its seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Signer:
    sk: bytes
    pk: bytes
    pop: bytes


def make_signers(crypto: Any, n: int, rng: random.Random) -> list[Signer]:
    """n fresh members keyed by ``crypto`` (key_gen, sk_to_pk, pop_prove) from ``rng``'s IKM."""
    out = []
    for _ in range(n):
        sk = crypto.key_gen(rng.randbytes(32))
        out.append(Signer(sk, crypto.sk_to_pk(sk), crypto.pop_prove(sk)))
    return out
