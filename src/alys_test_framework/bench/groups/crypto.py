"""Crypto group: the node's BLS wrapper (alys_node.crypto.bls) beside the raw blst calls.

The floor is the same pyblst operations with no wrapper (no subgroup/identity checks, no
parsing cache): what BLS costs on this machine. Each call signs or verifies a distinct message
so that no hash-to-curve result is reused.
"""

from __future__ import annotations

from typing import Any

import pyblst

from alys_node.crypto import bls

from ..context import BenchContext
from ..model import CaseResult, Target
from ..sampler import Contender

GROUP = "crypto"
SIGNERS = 64
AGG = 100


async def run(ctx: BenchContext) -> list[CaseResult]:
    n_msgs = ctx.size(200, 60)
    sks = [bls.key_gen(i.to_bytes(32, "big")) for i in range(max(SIGNERS, AGG))]
    pks = [bls.sk_to_pk(sk) for sk in sks]
    keys = [bls.PublicKey.from_bytes(pk) for pk in pks[:SIGNERS]]
    msgs = [b"bench message %d" % i for i in range(n_msgs)]
    ctx.progress(f"crypto: signing {n_msgs} messages and {n_msgs} aggregates of {SIGNERS}")
    single = [bls.sign(sks[0], m) for m in msgs]
    aggs = [bls.aggregate([bls.sign(sk, m) for sk in sks[:SIGNERS]]) for m in msgs]
    sigs100 = [bls.sign(sk, b"aggregate me") for sk in sks[:AGG]]
    g1 = pyblst.BlstP1Element.uncompress(bls.sk_to_pk((1).to_bytes(32, "big")))
    pk0 = pyblst.BlstP1Element.uncompress(pks[0])
    points = [k.point for k in keys]
    i = [0]

    def nxt() -> int:
        i[0] = (i[0] + 1) % n_msgs
        return i[0]

    def raw_verify(pk_point: Any, msg: bytes, sig: bytes) -> bool:
        h = pyblst.BlstP2Element.hash_to_group(msg, bls.DST)
        s = pyblst.BlstP2Element.uncompress(sig)
        return bool(pyblst.final_verify(pyblst.miller_loop(pk_point, h), pyblst.miller_loop(g1, s)))

    def ours_verify(loops: int) -> None:
        for _ in range(loops):
            k = nxt()
            assert bls.verify(pks[0], msgs[k], single[k])

    def floor_verify(loops: int) -> None:
        for _ in range(loops):
            k = nxt()
            assert raw_verify(pk0, msgs[k], single[k])

    def ours_fav(loops: int) -> None:
        for _ in range(loops):
            k = nxt()
            assert bls.fast_aggregate_verify(keys, msgs[k], aggs[k])

    def floor_fav(loops: int) -> None:
        for _ in range(loops):
            k = nxt()
            total = pyblst.BlstP1Element()
            for p in points:
                total = total + p
            assert raw_verify(total, msgs[k], aggs[k])

    def ours_agg(loops: int) -> None:
        for _ in range(loops):
            bls.aggregate(sigs100)

    def floor_agg(loops: int) -> None:
        for _ in range(loops):
            total = pyblst.BlstP2Element()
            for sig in sigs100:
                total = total + pyblst.BlstP2Element.uncompress(sig)
            total.compress()

    return [
        await ctx.case(
            GROUP,
            "bls_verify",
            "verify one signature (pubkey and signature from bytes)",
            [Contender("ours", ours_verify), Contender("raw_blst", floor_verify)],
            floor="raw_blst",
            target=Target("ratio", 1.05, "<= 1.05x raw blst"),
        ),
        await ctx.case(
            GROUP,
            "bls_fast_aggregate_verify_64",
            f"fast_aggregate_verify over {SIGNERS} parsed keys",
            [Contender("ours", ours_fav), Contender("raw_blst", floor_fav)],
            floor="raw_blst",
            target=Target("ratio", 1.05, "<= 1.05x raw blst"),
        ),
        await ctx.case(
            GROUP,
            "bls_aggregate_100",
            f"aggregate {AGG} signatures from bytes",
            [Contender("ours", ours_agg), Contender("raw_blst", floor_agg)],
            floor="raw_blst",
        ),
    ]
