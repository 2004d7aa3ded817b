"""Long fuzz of the reference node's remote surfaces (issue #14): >= 100,000 seeded inputs.

Categories (each input is judged by the checkers of tests/node/test_node_fuzz.py):
  p2p-random-pre / p2p-random-ready   random byte streams before / after the handshake
  p2p-mutated        valid frames of every message type with flipped bytes and cuts
  p2p-extreme-ints   structurally valid messages whose integers take their extreme values
  p2p-hello-plus     a valid Hello and more in the same read (the shape of D4)
  rpc-calls          JSON-RPC calls to the real node's methods with hostile parameters
  rpc-bodies         raw bodies: deep nesting, huge batches, bytes that are not JSON
  tcp-streams        random streams over real TCP into an in-process node
After the RPC and TCP categories the node must still be healthy: every actor running, none
failed (D1's property), and a legitimate peer must still complete a handshake.

    python benchmarks/fuzz_node.py [--inputs 100000] [--seed 14] [--json out.json]

Exits non-zero if any input crashed the code under test or broke a checked property.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' checkers

from tests.node.test_node_fuzz import check_p2p_events, check_rpc_answer, hello  # noqa: E402

from alys_node.chain.spec import dev_spec_and_key  # noqa: E402
from alys_node.node import Node  # noqa: E402
from alys_node.p2p import messages as m  # noqa: E402
from alys_node.p2p.frames import encode_frame  # noqa: E402
from alys_node.p2p.protocol import HandshakeComplete, PeerProtocol, Violation  # noqa: E402

SHARES = {  # of --inputs, per category
    "p2p-random-pre": 0.14, "p2p-random-ready": 0.14, "p2p-mutated": 0.20,
    "p2p-extreme-ints": 0.14, "p2p-hello-plus": 0.10, "rpc-calls": 0.18, "rpc-bodies": 0.08,
    "tcp-streams": 0.02,
}  # fmt: skip

EXTREMES = [0, 1, 255, 256, 65535, 65536, (1 << 31) - 1, 1 << 31, (1 << 32) - 1, 1 << 32,
            m.MAX_HEIGHT, m.MAX_HEIGHT + 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]  # fmt: skip


class Tally:
    def __init__(self) -> None:
        self.inputs = 0
        self.outcomes: Counter[str] = Counter()
        self.crashes: list[str] = []
        self.seconds = 0.0


def _samples(rng: random.Random) -> list[m.Message]:
    h = rng.choice(EXTREMES[:11])
    return [
        hello(b"B" * 16, h), m.Status(h, b"\1" * 32), m.GetHeaders(1, h, 10),
        m.GetBlocks(2, h, 512), m.Blocks(3, (b"abc", b"")), m.NewBlock(b"blk"), m.GetPeers(),
        m.Peers(("127.0.0.1:1",)), m.Ping(9), m.Pong(9), m.Disconnect("bye"),
    ]  # fmt: skip


def _ready() -> PeerProtocol:
    a, b = PeerProtocol(hello(b"A" * 16)), PeerProtocol(hello(b"B" * 16))
    a.receive_data(b.data_to_send())
    b.receive_data(a.data_to_send())
    return a


def _extreme_frame(rng: random.Random) -> bytes:
    t = rng.choice([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12])
    x = rng.choice(EXTREMES)
    if t in (3, 5):
        body = struct.pack(
            ">IQI", rng.choice(EXTREMES[:9]), x % (1 << 64), rng.choice(EXTREMES[:9])
        )
    elif t == 2:
        body = struct.pack(">Q", x % (1 << 64)) + b"\1" * 32
    elif t == 1:
        body = m.encode_payload(hello(b"B" * 16), 1 << 20)[1:]
        body = body[:-58] + struct.pack(">Q", x % (1 << 64)) + body[-50:]
    elif t in (4, 6, 9):
        body = struct.pack(">II", 1, x % (1 << 32))[: rng.choice([4, 8])]
    else:
        body = struct.pack(">Q", x % (1 << 64))
    frame = bytes([t]) + body
    if rng.random() < 0.2:
        return struct.pack(">I", x % (1 << 32)) + frame  # a lying length prefix
    return encode_frame(frame)


def p2p_case(kind: str, rng: random.Random) -> tuple[PeerProtocol, list[bytes]]:
    if kind == "p2p-random-pre":
        return PeerProtocol(hello(b"A" * 16)), [rng.randbytes(rng.randint(0, 200))]
    if kind == "p2p-random-ready":
        return _ready(), [rng.randbytes(rng.randint(0, 200))]
    if kind == "p2p-mutated":
        frame = bytearray(encode_frame(m.encode_payload(rng.choice(_samples(rng)), 1 << 20)))
        for _ in range(rng.randint(1, 4)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        data = bytes(frame[: len(frame) - rng.randint(0, 6)])
        return (_ready() if rng.random() < 0.7 else PeerProtocol(hello(b"A" * 16))), [data]
    if kind == "p2p-extreme-ints":
        return _ready(), [_extreme_frame(rng) for _ in range(rng.randint(1, 3))]
    hello_frame = encode_frame(m.encode_payload(hello(b"B" * 16), 1 << 20))
    return PeerProtocol(hello(b"A" * 16)), [hello_frame + _extreme_frame(rng)]


def run_p2p(kind: str, n: int, rng: random.Random) -> Tally:
    t = Tally()
    t0 = time.perf_counter()
    for _ in range(n):
        p, chunks = p2p_case(kind, rng)
        t.inputs += 1
        try:
            events = []
            for c in chunks:
                events += p.receive_data(c)
            check_p2p_events(p, events)
            bad = [e for e in events if isinstance(e, Violation)]
            t.outcomes["violation" if bad else "accepted"] += 1
        except Exception as e:  # a crash or a broken property: the finding this run is for
            t.crashes.append(f"{kind}: {e!r} on {chunks!r:.120}")
    t.seconds = time.perf_counter() - t0
    return t


# -- RPC against a real in-process node ------------------------------------------------------
RPC_METHODS = [
    "node_status",
    "node_health",
    "chain_head",
    "chain_getBlockByHeight",
    "chain_getBlockByHash",
    "chain_getCheckpoints",
    "admin_removePeer",
    "admin_peers",
    "admin_bans",
    "getheadblock",
    "getblockbyheight",
    "getblockbyhash",
    "no_such_method",
]  # fmt: skip  (no node_shutdown / dev_produceBlocks / admin_addPeer: they change the node)


def _value(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if r < 0.3:
        return rng.choice(EXTREMES) * rng.choice([1, -1])
    if r < 0.45:
        return rng.choice(["", "0x", "0x" + "ab" * 32, "ab" * 32, "١٢:٣", "h:1", "\udfff"[:0]])
    if r < 0.55:
        return rng.choice([None, True, False, 1.5, -0.0, 1e308])
    if r < 0.7 and depth < 4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if r < 0.8 and depth < 4:
        return {rng.choice(["height", "hash", "n", "x"]): _value(rng, depth + 1)}
    return rng.randbytes(rng.randint(0, 8)).hex()


def rpc_body(kind: str, rng: random.Random) -> bytes:
    if kind == "rpc-calls":
        call: dict = {"method": rng.choice(RPC_METHODS), "id": rng.choice([1, "x", None])}
        if rng.random() < 0.9:
            call["jsonrpc"] = "2.0"
        if rng.random() < 0.9:
            call["params"] = _value(rng)
        return json.dumps(call).encode()
    r = rng.random()
    if r < 0.25:
        return rng.choice([b"[", b'{"a":']) * rng.randint(1, 5000)
    if r < 0.4:
        one = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_head"}).encode()
        return b"[" + b",".join([one] * rng.randint(1, 300)) + b"]"
    if r < 0.6:
        return rng.randbytes(rng.randint(0, 100))
    return json.dumps(_value(rng)).encode()


async def run_rpc(node: Node, kind: str, n: int, rng: random.Random) -> Tally:
    t = Tally()
    t0 = time.perf_counter()
    for _ in range(n):
        raw = rpc_body(kind, rng)
        t.inputs += 1
        try:
            resp = await node.rpc.handle(raw)
            check_rpc_answer(raw, resp)
            first = resp[0] if isinstance(resp, list) and resp else resp
            err = first.get("error") if isinstance(first, dict) else None
            t.outcomes[f"error {err['code']}" if err else "result"] += 1
        except Exception as e:
            t.crashes.append(f"{kind}: {e!r} on {raw[:120]!r}")
    t.seconds = time.perf_counter() - t0
    return t


async def run_tcp(node: Node, n: int, rng: random.Random) -> Tally:
    t = Tally()
    t0 = time.perf_counter()
    spec = node.spec
    g = spec.genesis()
    for _ in range(n):
        t.inputs += 1
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", node.p2p_port)
        except OSError as e:
            t.outcomes[f"refused ({type(e).__name__})"] += 1
            continue
        if rng.random() < 0.5:  # half of them after a valid Hello
            h = m.Hello(
                m.PROTOCOL_VERSION, spec.chain_id, g.hash, 0, g.hash, 5000, rng.randbytes(16)
            )
            writer.write(encode_frame(m.encode_payload(h, 1 << 20)))
        writer.write(rng.choice([_extreme_frame(rng), rng.randbytes(rng.randint(1, 300))]))
        try:
            await writer.drain()
            got = await asyncio.wait_for(reader.read(1 << 16), 2)
            t.outcomes["answered" if got else "closed"] += 1
        except (OSError, TimeoutError):
            t.outcomes["closed"] += 1
        writer.close()
    t.seconds = time.perf_counter() - t0
    return t


async def legit_handshake(node: Node) -> bool:
    spec = node.spec
    g = spec.genesis()
    p = PeerProtocol(m.Hello(m.PROTOCOL_VERSION, spec.chain_id, g.hash, 0, g.hash, 6000, b"L" * 16))
    reader, writer = await asyncio.open_connection("127.0.0.1", node.p2p_port)
    writer.write(p.data_to_send())
    try:
        while data := await asyncio.wait_for(reader.read(1 << 16), 5):
            if any(isinstance(e, HandshakeComplete) for e in p.receive_data(data)):
                return True
        return False
    finally:
        writer.close()


async def main_async(a: argparse.Namespace) -> int:
    quiet = logging.getLogger("alys_node")  # penalties by the thousand: the table is the output
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    rng = random.Random(a.seed)
    total = a.inputs
    share: dict[str, float] = SHARES
    results: dict[str, Tally] = {}
    for kind in ("p2p-random-pre", "p2p-random-ready", "p2p-mutated", "p2p-extreme-ints",
                 "p2p-hello-plus"):  # fmt: skip
        results[kind] = run_p2p(kind, int(total * share[kind]), rng)
    with tempfile.TemporaryDirectory() as d:
        spec, key = dev_spec_and_key()
        node = Node(
            datadir=Path(d), spec=spec, key=key, dev=True, ban_seconds=0.0, verify_workers=0
        )
        await node.start()
        try:
            await node.refs["chain"].ask(_produce(20), timeout=60)
            for kind in ("rpc-calls", "rpc-bodies"):
                results[kind] = await run_rpc(node, kind, int(total * share[kind]), rng)
            results["tcp-streams"] = await run_tcp(node, int(total * share["tcp-streams"]), rng)
            health = node.supervisor.health()
            legit = await legit_handshake(node)
        finally:
            await node.stop()
    rows = [("category", "inputs", "outcomes", "crashes", "inputs/s")]
    for kind, t in results.items():
        top = ", ".join(f"{k} {v}" for k, v in t.outcomes.most_common(4))
        rows.append(
            (kind, f"{t.inputs:,}", top, str(len(t.crashes)), f"{t.inputs / t.seconds:,.0f}")
        )
    n_in = sum(t.inputs for t in results.values())
    crashes = [c for t in results.values() for c in t.crashes]
    failed = sum(a["failures"] for a in health["actors"].values())
    rows.append(("total", f"{n_in:,}", f"node health {health['state']}, actor failures {failed}, "
                 f"legitimate handshake {'ok' if legit else 'REFUSED'}", str(len(crashes)), ""))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, r in enumerate(rows):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    for c in crashes[:20]:
        print("CRASH", c)
    a.report = {
        k: {"inputs": t.inputs, "outcomes": t.outcomes, "crashes": t.crashes, "seconds": t.seconds}
        for k, t in results.items()
    } | {"health": health}
    ok = not crashes and health["ok"] and failed == 0 and legit and n_in >= min(total, 100_000)
    print("verdict:", "PASS" if ok else "FAIL", f"(seed {a.seed})")
    return 0 if ok else 1


def _produce(n: int) -> object:
    from alys_node.actors.messages import Produce

    return Produce(n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--inputs", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    code = asyncio.run(main_async(a))
    if a.json:
        Path(a.json).write_text(json.dumps(a.report, indent=2))
    sys.exit(code)


if __name__ == "__main__":
    main()
