"""Throughput of the chain oracle on one core: ``python -m alys_test_framework.oracles.chain.bench``.

Measured in CPU seconds of this process (``time.process_time``), so other load on the machine
does not flip the figures. Signs its own chain with pyblst (keys from a fixed seed) because the
oracle package must not import the node. Prints one row per case and exits 1 when the target
(5,000 blocks/s) is missed by the case the oracle uses to re-judge every node's chain.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import pyblst

from . import signatures as sigmod
from .encoding import OBlock
from .judge import ChainOracle
from .spec import OracleSpec

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
TARGET = 5000.0


def _keys(n: int) -> list[tuple[int, bytes]]:
    g1 = pyblst.BlstP1Element.uncompress(sigmod._G1_GEN)
    out = []
    for i in range(n):
        sk = int.from_bytes(hashlib.sha256(b"bench-key-%d" % i).digest(), "big") % R or 1
        out.append((sk, g1.scalar_mul(sk).compress()))
    return out


def build(n: int, authorities: int = 3) -> tuple[OracleSpec, list[OBlock]]:
    keys = _keys(authorities)
    spec = OracleSpec("bench", tuple(pk for _, pk in keys), slot_ms=1000, checkpoint_interval=100)
    parent = spec.genesis()
    blocks = [parent]
    for _ in range(n):
        slot = spec.slot_of(parent.timestamp) + 1
        p = spec.owner(slot)
        b = OBlock(parent.height + 1, parent.hash, spec.genesis_timestamp + slot * spec.slot_ms,
                   parent.tx_root if parent.height else hashlib.sha256(b"").digest(), p, b"")  # fmt: skip
        h2 = pyblst.BlstP2Element.hash_to_group(b.hash, sigmod.DST)
        b = b.replace(signature=h2.scalar_mul(keys[p][0]).compress())
        blocks.append(b)
        parent = b
    return spec, blocks


def _rate(n: int, fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    t0 = time.process_time()
    fn()
    dt = time.process_time() - t0
    return n / dt if dt > 0 else float("inf"), dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=2000)
    ap.add_argument("--nodes", type=int, default=5, help="nodes holding the same chain")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    spec, blocks = build(a.blocks)
    wire = [b.encode() for b in blocks]
    rpc = [b.to_json() for b in blocks]
    rows: list[tuple[str, float, float]] = []

    def fresh_oracle() -> ChainOracle:
        sigmod._VALID.clear()
        return ChainOracle(spec)

    o = fresh_oracle()
    rate, dt = _rate(len(wire), lambda: [OBlock.decode(w) for w in wire])
    rows.append(("decode wire bytes (E1)", rate, dt))
    rate, dt = _rate(len(rpc), lambda: [OBlock.from_json(d) for d in rpc])
    rows.append(("parse RPC JSON", rate, dt))
    parsed = [OBlock.from_json(d) for d in rpc]
    rate, dt = _rate(len(parsed), lambda: o.judge_chain(parsed, signatures=False))
    rows.append(("rules E2,B2-B6,C1-C4, no B1", rate, dt))
    rate, dt = _rate(len(parsed), lambda: o.checkpoint_violations(parsed, []))
    rows.append(("checkpoint digests (K3)", rate, dt))
    o = fresh_oracle()
    cold = [OBlock.from_json(d) for d in rpc]
    rate_cold, dt = _rate(len(cold), lambda: o.judge_chain(cold))
    rows.append(("all rules incl. B1, cold (first node)", rate_cold, dt))
    nodes = [[OBlock.from_json(d) for d in rpc] for _ in range(a.nodes - 1)]
    rate_warm, dt = _rate(len(blocks) * len(nodes), lambda: [o.judge_chain(bl) for bl in nodes])
    rows.append((f"all rules, each further node ({a.nodes - 1} x same chain)", rate_warm, dt))
    total = len(blocks) * a.nodes
    o = fresh_oracle()
    per_node = [[OBlock.from_json(d) for d in rpc] for _ in range(a.nodes)]
    rate_run, dt = _rate(total, lambda: [o.judge_chain(bl) for bl in per_node])
    rows.append((f"all rules, {a.nodes} nodes x {len(blocks)} blocks from cold", rate_run, dt))
    if a.json:
        print(json.dumps({name: round(r) for name, r, _ in rows}))
    else:
        print(f"{'case':55} {'blocks/s':>12} {'cpu s':>8}")
        for name, r, dt in rows:
            print(f"{name:55} {r:12,.0f} {dt:8.3f}")
        print(f"target >= {TARGET:,.0f} blocks/s for the per-test re-judgment "
              f"({a.nodes} nodes): {'PASS' if rate_run >= TARGET else 'MISS'}")  # fmt: skip
    return 0 if rate_run >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
