"""Benchmark of the Lighthouse-compat stack: Engine API block production and type hashing.

Rows (each with its baseline measured in the same run):
  engine_http      fcU(attrs) -> getPayload -> newPayload -> fcU(head) over HTTP + JWT
  engine_checked   the same, every exchange validated by the framework's Engine oracle
                   (OpenRPC schemas + the spec codec's canonical re-encode)
  engine_inproc    baseline: the same state-machine calls in process (no HTTP, no JSON)
  htr_payload      hash_tree_root of a deneb ExecutionPayload (16 txs, 16 withdrawals)
  sha256_ssz       baseline: sha256 over the same payload's SSZ bytes
  block_hash       the node's RLP + keccak256 + two MPT roots for the same payload
  oracle_hash      the framework's oracle (rlp + eth-hash) for the same payload, from JSON

    python benchmarks/lighthouse.py [--blocks 300]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time

from alys_node.consensus import from_obj, hash_tree_root, serialize, to_obj
from alys_node.engine import codec
from alys_node.engine.blockhash import compute_block_hash
from alys_node.engine.client import EngineClient
from alys_node.engine.driver import EngineDriver
from alys_node.engine.server import EmbeddedExecutionEndpoint
from alys_node.engine.state import ExecutionState, ForkSchedule
from alys_test_framework.oracles.engine.blockhash import payload_block_hash
from alys_test_framework.oracles.engine.conformance import ExchangeChecker

SECRET = bytes(range(32))
G = 1_700_000_000


async def engine_http(blocks: int, checked: bool) -> float:
    sched = ForkSchedule(genesis_time=G)
    async with EmbeddedExecutionEndpoint(SECRET, sched) as ep:
        client = EngineClient(ep.url, SECRET)
        driver = EngineDriver(client, sched, ExchangeChecker() if checked else None)
        head = "0x" + ep.state.genesis_hash.hex()
        t = time.perf_counter()
        for n in range(1, blocks + 1):
            head = (await driver.produce(head, G + 12 * n)).block_hash
        elapsed = time.perf_counter() - t
        await client.close()
    return blocks / elapsed


def engine_inproc(blocks: int) -> float:
    st = ExecutionState(ForkSchedule(genesis_time=G))
    head = st.head
    t = time.perf_counter()
    for n in range(1, blocks + 1):
        attrs = {
            "timestamp": G + 12 * n,
            "prev_randao": b"\0" * 32,
            "suggested_fee_recipient": b"\0" * 20,
            "withdrawals": [],
            "parent_beacon_block_root": b"\1" * 32,
        }
        fcs = {"head_block_hash": head, "safe_block_hash": head, "finalized_block_hash": b"\0" * 32}
        pid = st.forkchoice_updated(3, fcs, attrs)["payload_id"]
        payload = st.get_payload(3, pid)["payload"]
        st.new_payload(3, payload, [], b"\1" * 32)
        head = payload["block_hash"]
        st.forkchoice_updated(3, dict(fcs, head_block_hash=head, safe_block_hash=head), None)
    return blocks / (time.perf_counter() - t)


def sample_payload():
    w = [
        {"index": i, "validator_index": i, "address": "0x" + "11" * 20, "amount": i}
        for i in range(16)
    ]
    obj = {
        "parent_hash": "0x" + "01" * 32,
        "fee_recipient": "0x" + "02" * 20,
        "state_root": "0x" + "03" * 32,
        "receipts_root": "0x" + "04" * 32,
        "logs_bloom": "0x" + "00" * 256,
        "prev_randao": "0x" + "05" * 32,
        "block_number": 7,
        "gas_limit": 30_000_000,
        "gas_used": 21_000,
        "timestamp": G,
        "extra_data": "0x",
        "base_fee_per_gas": "7",
        "block_hash": "0x" + "06" * 32,
        "transactions": ["0x02" + "ab" * 120] * 16,
        "withdrawals": w,
        "blob_gas_used": 0,
        "excess_blob_gas": 0,
    }
    return from_obj("deneb", "ExecutionPayload", obj)


def per_op_us(fn, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=300)
    args = ap.parse_args()
    inproc = engine_inproc(args.blocks)
    http = asyncio.run(engine_http(args.blocks, checked=False))
    checked = asyncio.run(engine_http(args.blocks, checked=True))
    p = sample_payload()
    fresh = lambda: from_obj("deneb", "ExecutionPayload", to_obj(p))  # noqa: E731 (no cached roots)
    views = [fresh() for _ in range(200)]
    it = iter(views)
    htr = per_op_us(lambda: hash_tree_root(next(it)), len(views))
    raw = serialize(p)
    sha = per_op_us(lambda: hashlib.sha256(raw).digest(), 2000)
    bh = per_op_us(lambda: compute_block_hash(p, b"\1" * 32), 300)
    as_json = codec.encode_object("ExecutionPayloadV3", codec.payload_from_ssz(p))
    ob = per_op_us(lambda: payload_block_hash(as_json, "0x" + "01" * 32), 300)
    assert (
        payload_block_hash(as_json, "0x" + "01" * 32)
        == "0x" + compute_block_hash(p, b"\1" * 32).hex()
    )
    print(f"{'case':<16}{'value':>14}  {'unit':<10}{'vs baseline':>12}")
    print(f"{'engine_inproc':<16}{inproc:>14.1f}  {'blocks/s':<10}{'1.00x':>12}")
    print(f"{'engine_http':<16}{http:>14.1f}  {'blocks/s':<10}{http / inproc:>11.2f}x")
    print(f"{'engine_checked':<16}{checked:>14.1f}  {'blocks/s':<10}{checked / inproc:>11.2f}x")
    print(f"{'sha256_ssz':<16}{sha:>14.1f}  {'us/op':<10}{'1.00x':>12}")
    print(f"{'htr_payload':<16}{htr:>14.1f}  {'us/op':<10}{htr / sha:>11.1f}x")
    print(f"{'block_hash':<16}{bh:>14.1f}  {'us/op':<10}{bh / sha:>11.1f}x")
    print(f"{'oracle_hash':<16}{ob:>14.1f}  {'us/op':<10}{ob / sha:>11.1f}x")


if __name__ == "__main__":
    main()
