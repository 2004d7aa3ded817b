"""Hand-written safety checks of the BLS wrapper (identity, empty lists, subgroup, lengths)
and a small cross-check against py_ecc, the executable form of the IETF spec."""

from __future__ import annotations

import random

import pyblst
import pytest

from alys_node.crypto import bls

RNG_SEED = 5
# On-curve points outside the prime-order subgroup (x = 0 on G1, x = 2 on the G2 twist).
G1_NOT_IN_SUBGROUP = b"\x80" + bytes(47)
G2_NOT_IN_SUBGROUP = b"\xa0" + bytes(94) + b"\x02"


def _keys(n: int, seed: int = RNG_SEED) -> list[bytes]:
    rng = random.Random(seed)
    return [bls.key_gen(rng.randbytes(32)) for _ in range(n)]


def _negate_pk(pk: bytes) -> bytes:
    return bytes([pk[0] ^ 0x20]) + pk[1:]  # flip the y-sign flag: the point -P


def test_off_subgroup_points_are_on_curve_but_rejected_by_subgroup_check() -> None:
    with pytest.raises(ValueError, match="NOT_IN_GROUP"):
        pyblst.BlstP1Element.uncompress(G1_NOT_IN_SUBGROUP)
    with pytest.raises(ValueError, match="NOT_IN_GROUP"):
        pyblst.BlstP2Element.uncompress(G2_NOT_IN_SUBGROUP)


def test_sign_and_verify_roundtrip_and_binding() -> None:
    sk = _keys(1)[0]
    pk = bls.sk_to_pk(sk)
    sig = bls.sign(sk, b"proposal")
    assert len(pk) == 48 and len(sig) == 96
    assert bls.verify(pk, b"proposal", sig)
    assert not bls.verify(pk, b"proposal!", sig)
    assert not bls.verify(bls.sk_to_pk(_keys(2)[1]), b"proposal", sig)


@pytest.mark.parametrize(
    "sk",
    [bytes(32), bls.CURVE_ORDER.to_bytes(32, "big"), b"\xff" * 32, bytes(31) + b"\x01" * 0, b"x"],
)
def test_invalid_secret_keys_raise(sk: bytes) -> None:
    with pytest.raises(ValueError):
        bls.sign(sk, b"m")
    with pytest.raises(ValueError):
        bls.sk_to_pk(sk)
    with pytest.raises(ValueError):
        bls.pop_prove(sk)


def test_key_gen_rejects_short_ikm() -> None:
    with pytest.raises(ValueError):
        bls.key_gen(b"short")


def test_producers_raise_on_empty_identity_subgroup_and_length() -> None:
    sk = _keys(1)[0]
    sig = bls.sign(sk, b"m")
    for bad in ([], [sig[:95]], [sig + b"\x00"], [G2_NOT_IN_SUBGROUP], ["nope"]):
        with pytest.raises(ValueError):
            bls.aggregate(bad)
    pk = bls.sk_to_pk(sk)
    for bad in ([], [bls.G1_POINT_AT_INFINITY], [G1_NOT_IN_SUBGROUP], [pk[:47]], [pk, bytes(48)]):
        with pytest.raises(ValueError):
            bls.aggregate_pubkeys(bad)
    # The identity signature is a valid G2 element (Ethereum vector aggregate_infinity_signature).
    assert bls.aggregate([bls.G2_POINT_AT_INFINITY]) == bls.G2_POINT_AT_INFINITY


def test_verifiers_return_false_never_raise_on_bad_input() -> None:
    sk = _keys(1)[0]
    pk, sig = bls.sk_to_pk(sk), bls.sign(sk, b"m")
    inf_pk, inf_sig = bls.G1_POINT_AT_INFINITY, bls.G2_POINT_AT_INFINITY
    cases = [
        bls.verify(inf_pk, b"m", inf_sig),
        bls.verify(G1_NOT_IN_SUBGROUP, b"m", sig),
        bls.verify(pk, b"m", G2_NOT_IN_SUBGROUP),
        bls.verify(pk[:47], b"m", sig),
        bls.verify(pk, b"m", sig[:95]),
        bls.verify(pk, "m", sig),  # type: ignore[arg-type]
        bls.verify(None, b"m", sig),  # type: ignore[arg-type]
        bls.fast_aggregate_verify([], b"m", inf_sig),
        bls.fast_aggregate_verify([inf_pk], b"m", inf_sig),
        bls.fast_aggregate_verify(pk, b"m", sig),  # bytes instead of a list
        bls.aggregate_verify([], [], inf_sig),
        bls.aggregate_verify([pk], [b"m", b"n"], sig),
        bls.aggregate_verify([inf_pk], [b"m"], inf_sig),
        bls.pop_verify(inf_pk, inf_sig),
        bls.verify_batch([(pk, b"m")]),  # type: ignore[list-item]
    ]
    assert cases == [False] * len(cases)
    assert bls.eth_fast_aggregate_verify([], b"m", inf_sig) is True  # Ethereum's one exception


def test_cancelling_keys_cannot_verify_the_identity_signature() -> None:
    pk = bls.sk_to_pk(_keys(1)[0])
    neg = _negate_pk(pk)
    assert bls.aggregate_pubkeys([pk, neg]) == bls.G1_POINT_AT_INFINITY
    assert not bls.fast_aggregate_verify([pk, neg], b"m", bls.G2_POINT_AT_INFINITY)
    # aggregate_verify follows the IETF spec (py_ecc agrees): the pairings cancel, so it is True.
    # Only PoP at registration plus distinct-signer rules keep this out of the federation.
    assert bls.aggregate_verify([pk, neg], [b"m", b"m"], bls.G2_POINT_AT_INFINITY)


def test_aggregation_and_fast_aggregate_verify() -> None:
    sks = _keys(8)
    pks = [bls.sk_to_pk(s) for s in sks]
    msg = b"federation epoch 3"
    agg = bls.aggregate([bls.sign(s, msg) for s in sks])
    assert bls.fast_aggregate_verify(pks, msg, agg)
    assert bls.fast_aggregate_verify([bls.PublicKey.from_bytes(p) for p in pks], msg, agg)
    assert not bls.fast_aggregate_verify(pks[:-1], msg, agg)  # missing signer
    assert not bls.fast_aggregate_verify(pks + [pks[0]], msg, agg)  # duplicated key
    assert not bls.fast_aggregate_verify(pks, msg + b"x", agg)
    msgs = [bytes([i]) * 4 for i in range(len(sks))]
    agg2 = bls.aggregate([bls.sign(s, m) for s, m in zip(sks, msgs, strict=True)])
    assert bls.aggregate_verify(pks, msgs, agg2)
    assert not bls.aggregate_verify(pks, msgs[::-1], agg2)


def test_pop_is_bound_to_key_and_domain() -> None:
    a, b = _keys(2)
    pa, pb = bls.sk_to_pk(a), bls.sk_to_pk(b)
    proof = bls.pop_prove(a)
    assert bls.pop_verify(pa, proof)
    assert not bls.pop_verify(pb, proof)
    assert not bls.pop_verify(pa, bls.sign(a, pa))  # a signature over pk is not a PoP (other DST)


def test_rogue_key_is_caught_by_pop() -> None:
    """A rogue key pk_r = x*G - pk_victim lets x alone forge a 'two-signer' aggregate; it has no PoP."""
    victim_sk, attacker_sk = _keys(2)
    victim = pyblst.BlstP1Element.uncompress(bls.sk_to_pk(victim_sk))
    x = int.from_bytes(attacker_sk, "big")
    g1 = pyblst.BlstP1Element.uncompress(bls.sk_to_pk((1).to_bytes(32, "big")))
    rogue = (g1.scalar_mul(x) + (-victim)).compress()
    forged = bls.sign(attacker_sk, b"steal")
    assert bls.fast_aggregate_verify([bls.sk_to_pk(victim_sk), rogue], b"steal", forged)
    # ...which is exactly why registration demands a PoP the attacker cannot produce:
    assert not bls.pop_verify(rogue, bls.pop_prove(attacker_sk))


def test_verify_batch() -> None:
    sks = _keys(6)
    items = [
        (bls.sk_to_pk(s), f"block {i}".encode(), bls.sign(s, f"block {i}".encode()))
        for i, s in enumerate(sks)
    ]
    assert bls.verify_batch(items)
    assert bls.verify_batch([])
    assert bls.verify_batch(items[:1])
    for i in range(len(items)):
        bad = list(items)
        pk, msg, sig = bad[i]
        bad[i] = (pk, msg + b"!", sig)
        assert not bls.verify_batch(bad)
    # swapping two signatures keeps the sum of signatures but breaks each pairing
    swapped = list(items)
    swapped[0], swapped[1] = (
        (items[0][0], items[0][1], items[1][2]),
        (items[1][0], items[1][1], items[0][2]),
    )
    assert not bls.verify_batch(swapped)


def test_pubkey_cache_returns_same_parsed_object() -> None:
    pk = bls.sk_to_pk(_keys(1)[0])
    assert bls.PublicKey.from_bytes(pk) is bls.PublicKey.from_bytes(bytearray(pk))
    bls.clear_pubkey_cache()
    assert bytes(bls.PublicKey.from_bytes(pk)) == pk


def test_cross_check_against_py_ecc() -> None:
    """py_ecc is ~0.5 s per verify: a handful of random cases only."""
    from py_ecc.bls import G2ProofOfPossession as Ref

    rng = random.Random(RNG_SEED + 1)
    sks = []
    for _ in range(3):
        ikm, info = rng.randbytes(32 + rng.randrange(16)), rng.randbytes(rng.randrange(4))
        sk = bls.key_gen(ikm, info)
        ref_sk = Ref.KeyGen(ikm, info)
        assert int.from_bytes(sk, "big") == ref_sk
        assert bls.sk_to_pk(sk) == Ref.SkToPk(ref_sk)
        sks.append(sk)
    msg = rng.randbytes(rng.randrange(1, 64))
    sigs = [bls.sign(sk, msg) for sk in sks]
    assert sigs[0] == Ref.Sign(int.from_bytes(sks[0], "big"), msg)
    pks = [bls.sk_to_pk(s) for s in sks]
    agg = bls.aggregate(sigs)
    assert agg == Ref.Aggregate(sigs)
    assert bls.aggregate_pubkeys(pks) == Ref._AggregatePKs(pks)
    assert Ref.FastAggregateVerify(pks, msg, agg) is True
    tampered = bytearray(agg)
    tampered[10] ^= 1
    assert bls.fast_aggregate_verify(pks, msg, bytes(tampered)) is Ref.FastAggregateVerify(
        pks, msg, bytes(tampered)
    )
    assert bls.pop_prove(sks[1]) == Ref.PopProve(int.from_bytes(sks[1], "big"))


def test_any_iterable_is_accepted_and_garbage_never_raises_in_verifiers() -> None:
    sks = _keys(3)
    pks = [bls.sk_to_pk(s) for s in sks]
    sigs = [bls.sign(s, b"m") for s in sks]
    agg = bls.aggregate(iter(sigs))
    assert agg == bls.aggregate(tuple(sigs))
    assert bls.aggregate_pubkeys(iter(pks)) == bls.aggregate_pubkeys(pks)
    assert bls.fast_aggregate_verify(iter(pks), b"m", agg)
    for garbage in (None, 5, object(), [None], [5], "abc"):
        assert bls.fast_aggregate_verify(garbage, b"m", agg) is False  # type: ignore[arg-type]
        assert bls.aggregate_verify(garbage, [b"m"], agg) is False  # type: ignore[arg-type]
        assert bls.verify_batch(garbage) is False  # type: ignore[arg-type]
        assert bls.verify(garbage, b"m", agg) is False  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            bls.aggregate(garbage)  # type: ignore[arg-type]
