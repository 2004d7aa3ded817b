"""Keys and points an attacker builds: rogue keys, twins outside the subgroup, cancelling keys.

Pure curve arithmetic on the oracle's primitives and py_ecc (blst refuses to decode points
outside the subgroup, so those are built with py_ecc's unchecked decoder).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_typing import BLSPubkey
from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
from py_ecc.optimized_bls12_381 import FQ, add

from ....oracles import bls

TORSION_G1 = b"\x80" + bytes(47)  # (0, 2): on the curve, order 3, outside the r-subgroup
G2_OFF_SUBGROUP = b"\xa0" + bytes(94) + b"\x02"  # on the G2 twist, not in the subgroup


def add_torsion(pk: bytes) -> bytes:
    """pk + (0, 2): a second encoding of the same secret's key, outside the r-subgroup.

    A verifier without subgroup checks accepts it for the owner's signatures (the pairing
    ignores the order-3 component), so one member could take two seats.
    """
    return bytes(G1_to_pubkey(add(pubkey_to_G1(BLSPubkey(pk)), (FQ(0), FQ(2), FQ(1)))))


def twin_pop(sk: bytes, twin: bytes) -> bytes:
    """A proof of possession for the twin key's bytes, made with the owner's secret."""
    return bls.sign_with_dst(sk, twin, bls.POP_DST)


def rogue_key(victims: Sequence[bytes], attacker_sk: bytes) -> bytes:
    """x*G - sum(victims): with it, sum(victims) + rogue = x*G, so x alone signs for all."""
    return bls.g1_combine(minus=victims, scalar=bls.secret_scalar(attacker_sk))
