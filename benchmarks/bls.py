"""Benchmark of alys_node.crypto.bls (pyblst) beside py_ecc (the IETF reference) in one run.

Cases (issue 5): verify; fast_aggregate_verify over 64 signers with parsed keys cached and from
bytes (parse cache cleared before every call); aggregating 100 signatures; plus verify_batch per
item for information. Every call uses a distinct message, so no cached hash-to-curve flatters
the numbers. Ours runs many iterations, py_ecc only a couple (it takes ~0.5 s per pairing).
Per case the median per-call CPU time of a repetition is taken, best of --repeat repetitions
(wall time shown beside it). Exits non-zero if a target is missed.

    python benchmarks/bls.py [--iterations 100] [--reference-iterations 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pyblst

from alys_node.crypto import bls

TARGETS_MS = {"verify": 2.0, "fast_aggregate_verify_64_cached": 2.0, "aggregate_100": 15.0}
SIGNERS = 64
AGG = 100


WALL: dict[str, float] = {}


def _median_ms(fn: Callable[[int], Any], n: int, case: str = "") -> float:
    """Median CPU time per call (ms); the median wall time goes to WALL[case].

    CPU time is what the code costs; on a 2-core machine shared with other jobs the wall time
    also contains time spent waiting for a core, so both are printed.
    """
    cpu, wall = [], []
    for i in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn(i)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    if case:
        WALL[case] = statistics.median(wall) * 1e3
    return statistics.median(cpu) * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--reference-iterations", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of our cases")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    if min(args.iterations, args.reference_iterations, args.repeat) < 1:
        print(
            "error: --iterations, --reference-iterations and --repeat must be >= 1", file=sys.stderr
        )
        return 2
    from py_ecc.bls import G2ProofOfPossession as Ref

    n, nref = args.iterations, args.reference_iterations
    sks = [bls.key_gen(i.to_bytes(32, "big")) for i in range(max(SIGNERS, AGG))]
    pks = [bls.sk_to_pk(sk) for sk in sks]
    keys = [bls.PublicKey.from_bytes(pk) for pk in pks[:SIGNERS]]
    msgs = [b"bench message %d" % i for i in range(n)]
    single = [bls.sign(sks[0], m) for m in msgs]
    print(f"preparing {n} aggregates of {SIGNERS} signatures ...", file=sys.stderr)
    aggs = [bls.aggregate([bls.sign(sk, m) for sk in sks[:SIGNERS]]) for m in msgs]
    sigs100 = [bls.sign(sk, b"aggregate me") for sk in sks[:AGG]]
    batch = [(pks[i % SIGNERS], m, bls.sign(sks[i % SIGNERS], m)) for i, m in enumerate(msgs)]

    def ours_fav_bytes(i: int) -> None:
        bls.clear_pubkey_cache()
        assert bls.fast_aggregate_verify(pks[:SIGNERS], msgs[i], aggs[i])

    # The physical floor: the same blst calls with no wrapper (no checks, no parsing cache).
    g1 = pyblst.BlstP1Element.uncompress(bls.sk_to_pk((1).to_bytes(32, "big")))
    pk0 = pyblst.BlstP1Element.uncompress(pks[0])
    points = [k.point for k in keys]

    def raw_verify(pk_point: Any, msg: bytes, sig: bytes) -> bool:
        h = pyblst.BlstP2Element.hash_to_group(msg, bls.DST)
        s = pyblst.BlstP2Element.uncompress(sig)
        return pyblst.final_verify(pyblst.miller_loop(pk_point, h), pyblst.miller_loop(g1, s))

    def raw_fav(i: int) -> None:
        total = pyblst.BlstP1Element()
        for p in points:
            total = total + p
        raw_verify(total, msgs[i], aggs[i])

    def raw_aggregate(i: int) -> None:
        total = pyblst.BlstP2Element()
        for sig in sigs100:
            total = total + pyblst.BlstP2Element.uncompress(sig)
        total.compress()

    floors = {
        "verify": lambda i: raw_verify(pk0, msgs[i], single[i]),
        "fast_aggregate_verify_64_cached": raw_fav,
        "aggregate_100": raw_aggregate,
    }

    def measure_ours() -> dict[str, float]:
        cases = {
            "verify": lambda i: bls.verify(pks[0], msgs[i], single[i]),
            "fast_aggregate_verify_64_cached": lambda i: bls.fast_aggregate_verify(
                keys, msgs[i], aggs[i]
            ),
            "fast_aggregate_verify_64_bytes": ours_fav_bytes,
            "aggregate_100": lambda i: bls.aggregate(sigs100),
        }
        got = {case: _median_ms(fn, n, case) for case, fn in cases.items()}
        for case, fn in floors.items():
            got["floor:" + case] = _median_ms(fn, n)
        w, c = time.perf_counter(), time.process_time()
        assert bls.verify_batch(batch)
        got["verify_batch_per_item"] = (time.process_time() - c) * 1e3 / len(batch)
        WALL["verify_batch_per_item"] = (time.perf_counter() - w) * 1e3 / len(batch)
        return got

    # Best of --repeat medians: on a shared 2-core machine a neighbour's burst can double a
    # whole repetition (SMT siblings share a core); the best median is the code's own cost.
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(args.repeat):
        got = measure_ours()
        runs.append((got, dict(WALL)))
    ours, spread = {}, {}
    for case in runs[0][0]:
        best = min(runs, key=lambda r: r[0][case])
        ours[case] = best[0][case]
        if case in best[1]:
            WALL[case] = best[1][case]
        spread[case] = (min(r[0][case] for r in runs), max(r[0][case] for r in runs))

    print(f"py_ecc reference, {nref} iterations per case ...", file=sys.stderr)
    ref = {
        "verify": _median_ms(lambda i: Ref.Verify(pks[0], msgs[i], single[i]), nref),
        "fast_aggregate_verify_64_cached": None,  # py_ecc has no parsed-key cache
        "fast_aggregate_verify_64_bytes": _median_ms(
            lambda i: Ref.FastAggregateVerify(pks[:SIGNERS], msgs[i], aggs[i]), nref
        ),
        "aggregate_100": _median_ms(lambda i: Ref.Aggregate(sigs100), nref),
        "verify_batch_per_item": None,
    }
    ref_fav = ref["fast_aggregate_verify_64_bytes"]

    rows, missed = [], []
    print(
        f"\n{'case':34} {'ours cpu ms':>11} {'(wall)':>8} {'blst floor':>10} {'py_ecc ms':>10} "
        f"{'speedup':>9} {'target':>9}  ok"
    )
    for case, ms in ours.items():
        if case.startswith("floor:"):
            continue
        base = (
            ref[case] if ref[case] is not None else (ref_fav if "fast_aggregate" in case else None)
        )
        floor = ours.get("floor:" + case)
        target = TARGETS_MS.get(case)
        ok = target is None or ms <= target
        if not ok:
            missed.append(case)
        speed = f"{base / ms:8.0f}x" if base else "      -  "
        base_s = f"{base:10.1f}" if base else "         -"
        floor_s = f"{floor:10.3f}" if floor else "         -"
        tgt = f"<= {target:g}" if target else "-"
        print(
            f"{case:34} {ms:11.3f} {WALL[case]:8.3f} {floor_s} {base_s} {speed} {tgt:>9}  "
            f"{'yes' if ok else 'NO'}"
        )
        rows.append(
            {"case": case, "ours_cpu_ms": ms, "ours_wall_ms": WALL[case], "blst_floor_cpu_ms": floor,
             "py_ecc_cpu_ms": base, "target_ms": target, "ok": ok}
        )  # fmt: skip
    print("spread of our medians over repetitions (cpu ms): " + "; ".join(
        f"{c} {lo:.3f}..{hi:.3f}" for c, (lo, hi) in spread.items() if ":" not in c))  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average during the run: {load} on {os.cpu_count()} cores")
    print("best of the per-repetition medians; targets judged on CPU time (wall time includes")
    print("waiting for a shared core). blst floor = the same raw blst calls without the wrapper's")
    print(
        "checks: if the floor itself is near a target, the machine is contended, not the code slow."
    )
    print("py_ecc has no key cache: the cached row is compared with its from-bytes time.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "iterations": n,
                    "repeat": args.repeat,
                    "reference_iterations": nref,
                    "rows": rows,
                },
                fh,
                indent=2,
            )
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
