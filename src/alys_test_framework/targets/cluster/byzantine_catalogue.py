"""The Byzantine catalogue: for every chain rule, adversarial inputs on every path it applies to.

Why a catalogue of data plus one driver: consensus-spec-tests gives each rule an invalid case;
here each case is a value (rule id, path, how to spoil a block or a frame, what the victim must
do about it) and ``ByzantinePeer`` is a real TCP peer that speaks the wire protocol of
docs/CHAIN_RULES.md (W1–W4) well enough to get the spoiled input past framing into the rule
under test. ``run_case`` plays one case against a victim node and judges the outcome from the
victim's RPC only: the bad block is not in its chain, the sender is banned or merely penalised
as P1–P5 say, and (with an honest source) sync still completes.

Rules of this module:
1. Paths: ``gossip`` (one NewBlock), ``range`` (a Blocks response of 1, a few, or more than one
   verification batch (> 64) of blocks, with the bad block first, in the middle or last, or two
   signatures swapped inside one batch),
   ``gap`` (a valid block above head + 1 that must start a sync, G3),
   ``frame`` (malformed / oversized / unknown / trailing bytes), ``handshake`` (wrong chain,
   genesis, version), ``withhold`` (claims a head, never answers), ``flap`` (fails a range,
   comes back while banned).
2. A spoiled block breaks only its rule: with authority keys (``keys``) every block from the bad
   one on is re-linked and re-signed by the slot's rightful producer, so a node that skipped
   the rule cannot be rescued by a side effect (a bad signature, a broken link).
3. The wire bytes are written here from the doc (the attacker is not the node's own encoder),
   with blocks encoded by the oracle's ``OBlock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyblst

from ...oracles.chain import OBlock, OracleSpec, Violation
from ...oracles.chain.encoding import tx_root
from ...oracles.chain.signatures import DST

VERIFY_BATCH = 64
FANOUT_LISTENERS = 9  # more peers besides the sender than the fan-out of 8 (G1): 8 must get it
_PORTS = itertools.count(20000 + os.getpid() % 10000)
_SOURCES = itertools.count(1)


def next_source_ip() -> str:
    """A fresh loopback address (127.1.x.y) per case: the victim bans by IP as well as by node
    id, so cases from one address would be refused once three identities were banned."""
    k = next(_SOURCES)
    return f"127.1.{(k // 250) % 250}.{k % 250 + 1}"


PROTOCOL_VERSION = 1

# -- the cases ------------------------------------------------------------------------------
Spoil = Callable[[OBlock, "Forge"], OBlock]


@dataclass(frozen=True)
class ByzCase:
    """One adversarial input. ``expect`` is what the victim must do: ``ban`` (score <= -100,
    P1/P2), ``penalty`` (a milder score drop, no ban: P5), ``ignore`` (nothing, e.g. ties), or
    ``accept`` (a valid block at a rule's edge, which an over-strict node would refuse)."""

    id: str
    rule: str
    path: str
    detail: str
    expect: str = "ban"
    spoil: Spoil | None = None  # for gossip/range: how the bad block is made
    size: int = 1  # range: blocks in the response
    position: str = "first"  # range: first / middle / last
    frame: Callable[[OracleSpec], bytes] | None = None  # frame/handshake: raw bytes
    hello: dict[str, Any] = field(default_factory=dict)  # handshake overrides


@dataclass
class Forge:
    """Re-signs spoiled headers with the rightful (or named) authority's key, when known."""

    spec: OracleSpec
    keys: dict[int, int] = field(default_factory=dict)  # producer index -> secret scalar
    parent: OBlock | None = None  # the spoiled block's parent (set by the driver)

    def sign(self, b: OBlock, producer: int | None = None) -> OBlock:
        p = b.producer if producer is None else producer
        sk = self.keys.get(p)
        if sk is None:
            return b  # no key: keep the old signature (the case then also breaks B1)
        h = pyblst.BlstP2Element.hash_to_group(b.hash, DST)
        return b.replace(signature=h.scalar_mul(sk).compress())

    def outsider(self, b: OBlock) -> OBlock:
        h = pyblst.BlstP2Element.hash_to_group(b.hash, DST)
        return b.replace(signature=h.scalar_mul(0x5EED_0F_BAD).compress())


def _owner_ts(spec: OracleSpec, after_ts: int, producer: int) -> int:
    slot = spec.slot_of(after_ts) + 1
    slot += (producer - slot) % len(spec.authorities)
    return spec.genesis_timestamp + slot * spec.slot_ms


BLOCK_SPOILS: dict[str, tuple[str, Spoil]] = {
    "B1-outsider": ("valid BLS signature by a non-authority", lambda b, f: f.outsider(b)),
    "B1-garbage": ("signature bytes that are not a G2 point",
                   lambda b, f: b.replace(signature=b"\x8f" + b"\x01" * 95)),
    "B1-other-authority": (
        "signed by another authority than the producer",
        lambda b, f: f.sign(b, (b.producer + 1) % len(f.spec.authorities))
        if len(f.spec.authorities) > 1 else f.outsider(b),
    ),
    "B2": ("producer index beyond the authority set",
           lambda b, f: b.replace(producer=len(f.spec.authorities) + 3)),
    "B2-edge": ("producer index equal to the number of authorities (one past the last)",
                lambda b, f: b.replace(producer=len(f.spec.authorities))),
    "B3": ("producer does not own the slot (validly signed by the claimed producer)",
           lambda b, f: f.sign(b.replace(producer=(b.producer + 1) % len(f.spec.authorities)))
           if len(f.spec.authorities) > 1 else f.sign(b.replace(timestamp=b.timestamp + 1))),
    "B4": ("timestamp before genesis", lambda b, f: f.sign(b.replace(timestamp=1))),
    "B5": ("body does not match tx_root", lambda b, f: b.replace(txs=(b"smuggled tx",))),
    "B6": ("body larger than max_block_bytes (root matches)",
           lambda b, f: f.sign(_big_body(b, f.spec))),
    "C3": ("parent_hash is not the parent", lambda b, f: f.sign(b.replace(parent_hash=os.urandom(32)))),
    "C4": ("slot not after the parent's slot (same slot as the parent, by its owner)",
           lambda b, f: f.sign(b.replace(timestamp=f.parent.timestamp, producer=f.parent.producer))
           if f.parent is not None and f.parent.height > 0 else f.sign(b.replace(timestamp=f.spec.genesis_timestamp))),
}  # fmt: skip


def _big_body(b: OBlock, spec: OracleSpec) -> OBlock:
    """A body one byte over ``max_block_bytes``: inside the wire's per-block slack (W3 allows
    ``max_block_bytes + 4096``), so only B6 itself can refuse it — a grossly oversized body
    is the frame case W3-oversized-block."""
    total = spec.max_block_bytes + 1
    sizes = [60_000] * (total // 60_000) + ([total % 60_000] if total % 60_000 else [])
    txs = tuple(bytes([i % 256]) * n for i, n in enumerate(sizes))
    return b.replace(txs=txs, tx_root=tx_root(txs))


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


FRAMES: dict[str, tuple[str, str, Callable[[OracleSpec], bytes]]] = {
    "W1-oversized": ("W1", "frame length above 8 MiB", lambda s: struct.pack(">I", (8 << 20) + 1)),
    "W1-zero": ("W1", "zero-length frame", lambda s: struct.pack(">I", 0)),
    "W2-unknown-type": ("W2", "message type 99", lambda s: _frame(b"\x63")),
    "W2-trailing": ("W2", "Status with trailing bytes",
                    lambda s: _frame(b"\x02" + b"\x00" * 40 + b"junk")),
    "W2-truncated": ("W2", "Status cut short", lambda s: _frame(b"\x02\x00\x00")),
    "W3-range-count": ("W3", "GetBlocks for 0 blocks",
                       lambda s: _frame(b"\x05" + struct.pack(">IQI", 1, 1, 0))),
    "W3-oversized-block": ("W3", "NewBlock larger than max_block_bytes + 4096",
                           lambda s: _frame(b"\x07" + struct.pack(">I", s.max_block_bytes + 8192)
                                            + b"\x00" * (s.max_block_bytes + 8192))),
    "E1-malformed-block": ("E1", "NewBlock whose block bytes are truncated",
                           lambda s: _frame(b"\x07" + struct.pack(">I", 100) + b"\x00" * 100)),
}  # fmt: skip


NEEDS_TWO_AUTHORITIES = ("B1-other-authority", "B3")


def _with_txs(b: OBlock, f: Forge, txs: tuple[bytes, ...]) -> OBlock:
    return f.sign(b.replace(txs=txs, tx_root=tx_root(txs)))


def _max_body(b: OBlock, f: Forge) -> OBlock:
    """A body of exactly ``max_block_bytes``: valid (B6 says at most)."""
    total = f.spec.max_block_bytes
    sizes = [60_000] * (total // 60_000) + ([total % 60_000] if total % 60_000 else [])
    return _with_txs(b, f, tuple(bytes([i % 256]) * n for i, n in enumerate(sizes)))


# Valid blocks at the edge of a rule: the victim must import them (gossip at head + 1). A node
# that computes a rule more strictly than the spec (an odd Merkle level dropped instead of its
# last node doubled, a size limit off by one) refuses them; no invalid input could show that.
VALID_EDGES: dict[str, tuple[str, str, Spoil]] = {
    "B5-odd-txs": ("B5", "three transactions (an odd Merkle level)",
                   lambda b, f: _with_txs(b, f, (b"tx-a", b"tx-b", b"tx-c"))),
    "B5-five-txs": ("B5", "five transactions (odd levels twice)",
                    lambda b, f: _with_txs(b, f, tuple(b"tx-%d" % i for i in range(5)))),
    "B6-exact-max": ("B6", "body of exactly max_block_bytes", _max_body),
}  # fmt: skip


def catalogue(authorities: int = 2) -> list[ByzCase]:
    """Every case: each block rule on gossip and on ranges of 1, a few and > one batch with the
    bad block first/middle/last; frames; handshakes; withheld ranges; a peer that comes back.
    With one authority every slot is its own, so the producer-rotation cases are left out."""
    out: list[ByzCase] = []
    for cid, (detail, spoil) in BLOCK_SPOILS.items():
        if authorities < 2 and cid in NEEDS_TWO_AUTHORITIES:
            continue
        rule = cid.split("-")[0]
        gossip_expect = "ignore" if rule == "C3" else "ban"  # head+1 fork: a probe, not malice
        out.append(ByzCase(f"{cid}/gossip", rule, "gossip", detail, gossip_expect, spoil))
        for size in (1, 5, VERIFY_BATCH + 16):
            for pos in ("first", "middle", "last") if size > 1 else ("first",):
                expect = "penalty" if rule == "C3" and pos == "first" else "ban"
                out.append(ByzCase(f"{cid}/range-{size}-{pos}", rule, "range", detail, expect,
                                   spoil, size, pos))  # fmt: skip
    for cid, (rule, detail, fr) in FRAMES.items():
        out.append(ByzCase(f"{cid}/frame", rule, "frame", detail, "ban", frame=fr))
    out += [
        ByzCase("W4-chain-id/handshake", "W4", "handshake", "Hello with another chain id", "ban",
                hello={"chain_id": "not-this-chain"}),
        ByzCase("W4-genesis/handshake", "W4", "handshake", "Hello with another genesis", "ban",
                hello={"genesis": b"\x42" * 32}),
        ByzCase("W4-version/handshake", "W4", "handshake", "Hello with protocol version 2",
                "penalty", hello={"version": 2}),
        ByzCase("P5-empty-range/range", "P5", "range", "answers a range with no blocks",
                "penalty", size=0),
        ByzCase("S2-withheld/withhold", "S2", "withhold", "claims a head, never answers ranges",
                "penalty"),
        ByzCase("P2-wrong-heights/range", "P2", "range", "range starting at the wrong height",
                "ban", size=5, position="shifted"),
        ByzCase("B1-swapped/range", "B1", "range",
                "two signatures swapped within one verification batch (their sum is unchanged: "
                "only random coefficients tell)", "ban", size=VERIFY_BATCH + 16,
                position="swapped"),
        ByzCase("P3-flap/flap", "P3", "flap", "fails a range, reconnects while banned", "ban",
                BLOCK_SPOILS["B1-outsider"][1], 5, "middle"),
        ByzCase("F1-equivocation/gossip", "F1", "equivocation",
                "two valid blocks for one slot by its owner (needs the key), the second also "
                "offered to sync by a rival peer: an equal-height branch", "ignore"),
    ]  # fmt: skip
    out.append(ByzCase("G3-gap/gossip", "G3", "gap",
                       "a valid block two above the head, gossiped by a peer whose Hello "
                       "claimed no higher head: the gap must make the victim sync from it",
                       "accept"))  # fmt: skip
    # valid edges after every range case: after a gossip import the reference victim was seen
    # to ask its next range from below the attacker's fresh branch, which the attacker can only
    # answer empty (P5: a penalty that is the attacker's doing, not the victim's)
    for cid, (rule, detail, edge) in VALID_EDGES.items():
        out.append(ByzCase(f"{cid}/gossip", rule, "gossip", detail, "accept", edge))
    return out


# -- the wire (docs/CHAIN_RULES.md W1–W4, written here, not imported from the node) ----------
def _text(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">I", len(b)) + b


def hello_payload(spec: OracleSpec, head: OBlock, listen_port: int, **over: Any) -> bytes:
    g = over.get("genesis", spec.genesis().hash)
    return (b"\x01" + struct.pack(">H", over.get("version", PROTOCOL_VERSION))
            + _text(over.get("chain_id", spec.chain_id)) + g
            + struct.pack(">Q", over.get("head_height", head.height)) + head.hash
            + struct.pack(">H", listen_port) + over.get("node_id", os.urandom(16)))  # fmt: skip


def blocks_payload(req_id: int, blocks: Sequence[bytes]) -> bytes:
    out = [b"\x06", struct.pack(">II", req_id, len(blocks))]
    for b in blocks:
        out += [struct.pack(">I", len(b)), b]
    return b"".join(out)


def new_block_payload(block: bytes) -> bytes:
    return b"\x07" + struct.pack(">I", len(block)) + block


def status_payload(height: int, h: bytes) -> bytes:
    return b"\x02" + struct.pack(">Q", height) + h


class ByzantinePeer:
    """A TCP peer of the victim: handshakes, then sends or answers what the case says."""

    def __init__(
        self, spec: OracleSpec, head: OBlock, listen_port: int = 0, source_ip: str = ""
    ) -> None:
        self.spec = spec
        self.head = head
        self.source_ip = source_ip or next_source_ip()
        self.node_id = os.urandom(16)
        self.listen_port = listen_port or next(_PORTS)  # one ban key per case
        self.requests: list[tuple[int, int, int]] = []  # (req_id, start, count)
        self.closed_by_victim = False
        self.hello_received = False
        self.sock_addr = ""
        self.disconnect_reason: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._buf = b""
        self.responder: Callable[[int, int, int], bytes | None] | None = None
        self.anchor_height = 0
        self.pongs = 0
        self.gossip_received: list[bytes] = []  # hashes of the NewBlocks the victim sent us
        self._task: asyncio.Task[None] | None = None

    @property
    def addr(self) -> str:
        """What the victim's bans show for us after a handshake: our IP and advertised port."""
        return f"{self.source_ip}:{self.listen_port}"

    async def connect(self, host: str, port: int, **hello: Any) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            host, port, local_addr=(self.source_ip, 0)
        )
        sock = self._writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        self.sock_addr = f"{sock[0]}:{sock[1]}"
        hello.setdefault("node_id", self.node_id)
        self.send(hello_payload(self.spec, self.head, self.listen_port, **hello))
        self._task = asyncio.create_task(self._serve())

    def send(self, payload: bytes) -> None:
        self.send_raw(_frame(payload))

    def send_raw(self, data: bytes) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    async def _serve(self) -> None:
        assert self._reader is not None
        try:
            while True:
                data = await self._reader.read(1 << 16)
                if not data:
                    break
                self._buf += data
                while len(self._buf) >= 4:
                    (n,) = struct.unpack_from(">I", self._buf)
                    if len(self._buf) < 4 + n:
                        break
                    p, self._buf = self._buf[4 : 4 + n], self._buf[4 + n :]
                    self._on(p)
                if self._writer is not None:
                    await self._writer.drain()
        except (ConnectionError, OSError):
            pass
        self.closed_by_victim = True

    def _on(self, p: bytes) -> None:
        t = p[0] if p else 0
        if t == 1:
            self.hello_received = True
        elif t == 5:  # GetBlocks
            req, start, count = struct.unpack_from(">IQI", p, 1)
            self.requests.append((req, start, count))
            if self.responder is not None:
                resp = self.responder(req, start, count)
                if resp is not None:
                    self.send(resp)
        elif t == 3:  # GetHeaders: none
            (req,) = struct.unpack_from(">I", p, 1)
            self.send(b"\x04" + struct.pack(">II", req, 0))
        elif t == 8:  # GetPeers
            self.send(b"\x09" + struct.pack(">I", 0))
        elif t == 10:  # Ping
            self.send(b"\x0b" + p[1:9])
        elif t == 11:
            self.pongs += 1
        elif t == 7 and len(p) >= 5:  # NewBlock: what the victim gossips to us
            with contextlib.suppress(Exception):
                self.gossip_received.append(OBlock.decode(p[5:]).hash)
        elif t == 12:
            self.disconnect_reason = p[5:].decode(errors="replace")

    def ping(self) -> None:
        self.send(b"\x0a" + os.urandom(8))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()


# -- building the bad input ----------------------------------------------------------------
def relink(blocks: list[OBlock], start: int, forge: Forge) -> list[OBlock]:
    """Re-point every block after ``start`` at its (changed) predecessor and re-sign it, so the
    spoiled block is the only broken one."""
    out = list(blocks)
    for i in range(start + 1, len(out)):
        out[i] = forge.sign(out[i].replace(parent_hash=out[i - 1].hash))
    return out


def spoiled_range(
    case: ByzCase, honest: Sequence[OBlock], forge: Forge
) -> tuple[list[OBlock], OBlock]:
    """``case.size`` blocks from ``honest`` (which start right above the victim's head) with the
    spoiled block at ``case.position``; returns (range, the bad block)."""
    blocks = list(honest[: case.size])
    i = {"first": 0, "middle": len(blocks) // 2, "last": len(blocks) - 1}.get(case.position, 0)
    assert case.spoil is not None
    bad = case.spoil(blocks[i], forge)
    blocks[i] = bad
    return relink(blocks, i, forge), bad


_FRESH = itertools.count(1)


def fresh_branch(anchor: OBlock, n: int, forge: Forge) -> list[OBlock]:
    """``n`` valid blocks on ``anchor`` no case used before (its first slot is pushed later by a
    per-case number of rotations). Two reasons: a victim may keep the verified blocks of a range
    it rejected and fill the next case's range from them; and nodes remember gossiped hashes
    *before* validating them (G2), so two spoils of one header would see the second ignored as
    a duplicate instead of judged. Needs every producer's key; else ``[]``."""
    spec = forge.spec
    if len(forge.keys) < len(spec.authorities):
        return []
    out: list[OBlock] = []
    parent = anchor
    shift = next(_FRESH) * len(spec.authorities) * spec.slot_ms
    for i in range(n):
        slot = spec.slot_of(parent.timestamp + (shift if i == 0 else 0)) + 1
        ts = spec.genesis_timestamp + slot * spec.slot_ms
        b = forge.sign(
            OBlock(parent.height + 1, parent.hash, ts, tx_root(()), spec.owner(slot), b"")
        )
        out.append(b)
        parent = b
    return out


def equivocation(parent: OBlock, spec: OracleSpec, forge: Forge) -> tuple[OBlock, OBlock]:
    """Two different blocks for one slot, both validly signed by the slot's owner."""
    ts = _owner_ts(spec, parent.timestamp, 0)
    owner = spec.owner(spec.slot_of(ts))
    base = OBlock(parent.height + 1, parent.hash, ts, tx_root(()), owner, b"")
    txs = (b"equivocation",)
    other = base.replace(txs=txs, tx_root=tx_root(txs))
    return forge.sign(base), forge.sign(other)


def keys_from_files(paths: Sequence[str]) -> dict[int, int]:
    """Authority secret keys from ``authority-<i>.key`` JSON files (index, secret_key)."""
    import json

    out = {}
    for p in paths:
        with open(p) as fh:
            d = json.load(fh)
        out[int(d["index"])] = int(d["secret_key"], 16)
    return out


# -- the driver ----------------------------------------------------------------------------
@dataclass
class CaseResult:
    case: ByzCase
    bad_hashes: list[str]
    banned: bool
    score: int | None
    in_chain: list[str]
    violations: list[Violation]
    requests: int
    seconds: float
    stale: bool = False  # the victim's head moved past the case's height while it was played

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.id, "rule": self.case.rule, "path": self.case.path,
            "expect": self.case.expect, "banned": self.banned, "score": self.score,
            "bad_hashes": self.bad_hashes, "in_chain": self.in_chain, "requests": self.requests,
            "seconds": round(self.seconds, 3), "violations": [str(v) for v in self.violations],
        }  # fmt: skip


RpcCall = Callable[..., Any]  # async (method, *params) -> result


async def run_case(
    case: ByzCase,
    *,
    spec: OracleSpec,
    victim_p2p: tuple[str, int],
    victim_rpc: RpcCall,
    honest: Sequence[OBlock],
    forge: Forge,
    timeout_s: float = 20.0,
    poll_s: float = 0.02,
    attempts: int = 3,
) -> CaseResult:
    """``play_case``, played again (up to ``attempts``) only when the victim's head moved past
    the bad block's height during the play — the input then tested a stale height, not the
    rule: a re-measurement, never a second chance for a victim that accepted or ignored it."""
    for _ in range(attempts):
        res = await play_case(
            case, spec=spec, victim_p2p=victim_p2p, victim_rpc=victim_rpc, honest=honest,
            forge=forge, timeout_s=timeout_s, poll_s=poll_s,
        )  # fmt: skip
        if not res.stale:
            break
    return res


async def play_case(
    case: ByzCase,
    *,
    spec: OracleSpec,
    victim_p2p: tuple[str, int],
    victim_rpc: RpcCall,
    honest: Sequence[OBlock],
    forge: Forge,
    timeout_s: float = 20.0,
    poll_s: float = 0.02,
) -> CaseResult:
    """Play ``case`` once against a victim whose chain ends right below ``honest[0]``.

    ``honest`` are valid blocks the victim does not have yet (the next heights). Judged from the
    victim's RPC: none of the bad blocks is in its chain; ``ban`` → our address is in its bans;
    ``penalty`` → not banned but the score dropped, or (withheld/empty ranges) it asked again.
    """
    t0 = time.monotonic()
    tie: OBlock | None = None  # equivocation: the first block, which the victim must keep
    good: list[OBlock] = []  # accept: the valid edge block the victim must import
    listeners: list[ByzantinePeer] = []  # equivocation: peers the imported block must reach
    base_h = await quiesce(victim_rpc, timeout_s, poll_s)
    parent = await victim_rpc("chain_getBlockByHeight", base_h)
    anchor = OBlock.from_json(parent)
    bad: list[OBlock] = []
    forge.parent = anchor
    if case.path in ("range", "flap", "gossip", "withhold"):
        honest = fresh_branch(anchor, max(case.size, 1), forge) or honest
    claimed, responder, bad = _plan(case, anchor, honest, forge)
    head_height = claimed.height
    if case.size > 16:  # the victim sizes requests by the distance to our head: make it ask
        head_height = max(head_height, base_h + 16 * (case.size + 8))  # for > one batch at once
    peer = ByzantinePeer(spec, claimed)
    peer.anchor_height = base_h
    peer.responder = responder
    hello = {"head_height": head_height} | dict(case.hello)
    await peer.connect(*victim_p2p, **hello)
    try:
        if case.path == "gossip":
            assert case.spoil is not None
            b = case.spoil(honest[0], forge)
            (good if case.expect == "accept" else bad).append(b)
            await _wait(lambda: _handshook(peer), 5, poll_s)
            peer.send(new_block_payload(b.encode()))
        elif case.path == "equivocation":
            x, y = equivocation(anchor, spec, forge)
            await _wait(lambda: _handshook(peer), 5, poll_s)
            for _ in range(FANOUT_LISTENERS):  # honest-looking peers x must be forwarded to
                lst = ByzantinePeer(spec, anchor)
                listeners.append(lst)
                await lst.connect(*victim_p2p)
            await _wait(lambda: all(_handshook(lst) for lst in listeners), 5, poll_s)
            peer.send(new_block_payload(x.encode()))
            # the second block only once the first is the head: then the pair is a tie the
            # victim must keep (F1), not a race of two arrivals
            if await _head_becomes(victim_rpc, x, timeout_s, poll_s):
                tie = x
            peer.send(new_block_payload(y.encode()))
            if tie is not None:  # the same tie offered to sync: a rival whose head is y
                await _offer_branch(spec, [y], victim_p2p, victim_rpc, timeout_s, poll_s)
        elif case.path == "gap":  # G3: a block above head + 1 tells sync the sender's head
            branch = fresh_branch(anchor, 2, forge)
            enc = {b.height: b.encode() for b in branch}
            peer.responder = lambda req, start, count: blocks_payload(
                req, [enc[h] for h in range(start, start + count) if h in enc]
            )
            await _wait(lambda: _handshook(peer), 5, poll_s)
            peer.send(new_block_payload(branch[1].encode()))
            good.append(branch[1])
        elif case.path == "frame":
            assert case.frame is not None
            await _wait(lambda: _handshook(peer), 5, poll_s)
            peer.send_raw(case.frame(spec))
        elif case.path in ("range", "flap", "withhold"):
            await _wait(lambda: _handshook(peer), 5, poll_s)
        if peer._writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                await peer._writer.drain()
        banned, score = await _outcome(case, peer, victim_rpc, timeout_s, poll_s, bad or good)
        if case.path == "flap" and banned:
            await peer.close()
            again = ByzantinePeer(spec, claimed, peer.listen_port, peer.source_ip)
            again.node_id = peer.node_id  # the same peer comes back (P3 bans the node id)
            again.requests = peer.requests
            peer = again
            await peer.connect(*victim_p2p)
            await _wait(lambda: peer.closed_by_victim, 5, poll_s)
    finally:
        await peer.close()
    in_chain = []
    for b in bad:  # the whole block, not the hash: a B1/B5 spoil keeps the honest header
        got = await victim_rpc("chain_getBlockByHeight", b.height)
        if got and _same(OBlock.from_json(got), b):
            in_chain.append(got["hash"])
    vs = _judge(case, bad, banned, score, in_chain, peer)
    if good and not await _imported(victim_rpc, good):
        vs.append(Violation(case.rule, f"{case.id}: the victim refused a valid block "
                            f"({case.detail})", good[0].height))  # fmt: skip
    if good and banned:
        vs.append(Violation("P2", f"{case.id}: the sender of a valid block was banned"))
    if tie is not None and listeners:  # G1: forwarded to min(8, peers - 1) peers
        want = min(8, len(listeners))
        got = await _wait(
            lambda: sum(tie.hash in lst.gossip_received for lst in listeners) >= want,
            timeout_s, poll_s,
        )  # fmt: skip
        reached = sum(tie.hash in lst.gossip_received for lst in listeners)
        if not got:
            vs.append(Violation("G1", f"{case.id}: a block imported from gossip was forwarded "
                                f"to {reached} of {len(listeners)} other peers (G1: to "
                                f"min(8, peers - 1))", tie.height))  # fmt: skip
    for lst in listeners:
        await lst.close()
    if tie is not None and tie.hash in peer.gossip_received:
        vs.append(Violation("G1", f"{case.id}: the victim forwarded the gossiped block back to "
                            "its sender", tie.height))  # fmt: skip
    if tie is not None:
        got = await victim_rpc("chain_getBlockByHeight", tie.height)
        if not (got and _same(OBlock.from_json(got), tie)):
            vs.append(Violation("F1", f"{case.id}: the victim switched its head to another block "
                                "of the same height (ties keep the head)", tie.height))  # fmt: skip
    end = int((await victim_rpc("chain_head"))["height"])
    stale = bool(vs) and not in_chain and case.path == "gossip" and end > base_h
    return CaseResult(case, ["0x" + b.hash.hex() for b in bad], banned, score, in_chain, vs,
                      len(peer.requests), time.monotonic() - t0, stale)  # fmt: skip


Responder = Callable[[int, int, int], "bytes | None"]


def _silent(req: int, start: int, count: int) -> bytes | None:
    return None


def _empty(req: int, start: int, count: int) -> bytes | None:
    return blocks_payload(req, [])


def _plan(
    case: ByzCase, anchor: OBlock, honest: Sequence[OBlock], forge: Forge
) -> tuple[OBlock, Responder, list[OBlock]]:
    """(head we claim, how we answer GetBlocks, the bad blocks we will send)."""
    if case.path == "withhold":
        return (honest[-1] if honest else anchor), _silent, []
    if case.path not in ("range", "flap"):
        return anchor, _silent, []  # no reason for the victim to sync from us
    if case.size == 0:
        return (honest[0] if honest else anchor), _empty, []
    bad: list[OBlock] = []
    if case.spoil is not None:
        rng, b = spoiled_range(case, honest, forge)
        bad.append(b)
    elif case.position == "swapped":  # two valid signatures, each on the other's block
        rng = list(honest[: case.size])
        i = len(rng) // 2
        x, y = rng[i], rng[i + 1]
        rng[i], rng[i + 1] = x.replace(signature=y.signature), y.replace(signature=x.signature)
        bad += [rng[i], rng[i + 1]]
    else:
        rng = list(honest[: case.size])
    served = rng if case.position != "shifted" else rng[1:]
    first = rng[0].height
    enc = [x.encode() for x in served]

    def respond(req: int, start: int, count: int) -> bytes | None:
        k = start - first
        return blocks_payload(req, enc[k : k + count] if 0 <= k < len(enc) else [])

    return rng[-1], respond, bad


async def quiesce(rpc: RpcCall, timeout_s: float, poll_s: float, still: int = 10) -> int:
    """The victim's head once it stopped moving (not syncing, same head for ``still`` polls):
    an earlier case's leftovers must not land in this one."""
    deadline = time.monotonic() + timeout_s
    last, same = None, 0
    while time.monotonic() < deadline:
        st = await rpc("node_status")
        cur = (int(st["height"]), st["hash"])
        same = same + 1 if cur == last and not st.get("syncing") else 0
        if same >= still:
            break
        last = cur
        await asyncio.sleep(poll_s)
    return int(last[0]) if last else 0


async def _imported(rpc: RpcCall, bad: Sequence[OBlock]) -> bool:
    for b in bad:
        got = await rpc("chain_getBlockByHeight", b.height)
        if got and _same(OBlock.from_json(got), b):
            return True
    return False


async def _offer_branch(
    spec: OracleSpec,
    branch: Sequence[OBlock],
    victim_p2p: tuple[str, int],
    victim_rpc: RpcCall,
    timeout_s: float,
    poll_s: float,
) -> None:
    """A second peer claiming ``branch``'s tip as its head and serving it to sync; returns once
    the victim has read its Hello (a Ping answered) and, if it asked for the branch, once it
    settled. Whether the victim asks at all is its business: an equal-height head need not be
    synced from."""
    enc = {b.height: b.encode() for b in branch}
    rival = ByzantinePeer(spec, branch[-1])
    rival.responder = lambda req, start, count: blocks_payload(
        req, [enc[h] for h in range(start, start + count) if h in enc]
    )
    try:
        await rival.connect(*victim_p2p, head_height=branch[-1].height)
        if await _wait(lambda: _handshook(rival), 5, poll_s) and not rival.closed_by_victim:
            rival.ping()
            await _wait(lambda: rival.pongs > 0 or rival.closed_by_victim, 5, poll_s)
            if rival.requests:
                await quiesce(victim_rpc, timeout_s, poll_s)
    finally:
        await rival.close()


async def _head_becomes(rpc: RpcCall, b: OBlock, timeout_s: float, poll_s: float) -> bool:
    want = "0x" + b.hash.hex()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (await rpc("chain_head"))["hash"] == want:
            return True
        await asyncio.sleep(poll_s)
    return False


def _same(a: OBlock, b: OBlock) -> bool:
    return (a.hash, a.signature, a.txs) == (b.hash, b.signature, b.txs)


def _handshook(peer: ByzantinePeer) -> bool:
    return peer.closed_by_victim or peer.hello_received


async def _wait(pred: Callable[[], bool], timeout_s: float, poll_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll_s)
    return True


async def _outcome(
    case: ByzCase,
    peer: ByzantinePeer,
    rpc: RpcCall,
    timeout_s: float,
    poll_s: float,
    bad: Sequence[OBlock] = (),
) -> tuple[bool, int | None]:
    """Poll the victim until the expected reaction shows, or a bad block is in its chain (the
    verdict is then decided), or the case's time is up."""
    deadline = time.monotonic() + timeout_s
    banned, score = False, None
    pong_at: int | None = None
    settle = 10
    while time.monotonic() < deadline:
        bans = await rpc("admin_bans")
        banned = any(b.get("addr") in (peer.addr, peer.source_ip) for b in bans or [])
        peers = await rpc("admin_peers")
        mine = [p for p in peers or [] if p.get("addr") == peer.addr]
        score = int(mine[0]["score"]) if mine else score
        if case.expect == "ban" and banned:
            break
        if bad and await _imported(rpc, bad):
            break
        if case.expect == "accept" and (banned or peer.closed_by_victim):
            break  # refused: it will not be imported now
        if case.expect == "penalty" and (
            banned or (score is not None and score < 0) or peer.closed_by_victim
        ):
            break
        if case.expect == "ignore":
            # Barrier, not a verdict: a Pong proves the victim read everything sent before the
            # Ping; a few more polls let its chain actor act on it. The verdict is what the
            # victim then shows (not imported, not banned).
            if pong_at is None:
                peer.ping()
                pong_at = peer.pongs + 1
            elif peer.pongs >= pong_at:
                settle -= 1
                if settle <= 0:
                    break
        await asyncio.sleep(poll_s * 5)
    return banned, score


def _judge(
    case: ByzCase,
    bad: Sequence[OBlock],
    banned: bool,
    score: int | None,
    in_chain: list[str],
    peer: ByzantinePeer,
) -> list[Violation]:
    out = []
    for h in in_chain:
        out.append(Violation(case.rule, f"{case.id}: victim imported the bad block {case.detail}",
                             next((b.height for b in bad if "0x" + b.hash.hex() == h), None)))  # fmt: skip
    if case.expect == "ban" and not banned:
        out.append(Violation("P2" if case.path in ("gossip", "range") else "P1",
                             f"{case.id}: sender of '{case.detail}' not banned (score {score})"))  # fmt: skip
    if (
        case.expect == "penalty"
        and banned
        and case.rule in ("P5", "S2", "C3")
        and len(peer.requests) <= 2
    ):
        out.append(
            Violation(
                "P5",
                f"{case.id}: '{case.detail}' is not malice but its first offence banned the sender",
            )
        )
    if case.path == "flap" and not peer.closed_by_victim:
        out.append(Violation("P3", f"{case.id}: banned sender was accepted again"))
    return out
