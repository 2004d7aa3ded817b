"""Wire messages and their binary payloads.

Every payload decoder checks lengths and counts against hard limits and rejects trailing bytes,
so a malformed message is always a :class:`DecodeError`, never a partial object.

Rules for integers: a field is checked against the range its *meaning* allows, not only its wire
width. A height travels as a u64 but must be at most ``MAX_HEIGHT``: the store keys blocks by a
signed 64-bit SQLite INTEGER and reads ``[start, start + count)``, so anything larger could only
fail deep inside storage (issue #14, D1). Opaque values (request ids, ping nonces) may take their
whole width.
"""

from __future__ import annotations

from dataclasses import dataclass

from alys_node.chain.block import HEADER_LEN, Header
from alys_node.chain.codec import DecodeError, Reader, Writer

PROTOCOL_VERSION = 1
MAX_RANGE = 512  # blocks/headers per request
MAX_PEERS_LIST = 64
MAX_HEIGHT = (1 << 63) - 1 - MAX_RANGE  # a whole range above it still fits a signed int64


@dataclass(frozen=True)
class Hello:
    version: int
    chain_id: str
    genesis_hash: bytes
    head_height: int
    head_hash: bytes
    listen_port: int
    node_id: bytes  # 16 random bytes: detects self-connections and duplicates


@dataclass(frozen=True)
class Status:
    head_height: int
    head_hash: bytes


@dataclass(frozen=True)
class GetHeaders:
    req_id: int
    start: int
    count: int


@dataclass(frozen=True)
class Headers:
    req_id: int
    headers: tuple[Header, ...]


@dataclass(frozen=True)
class GetBlocks:
    req_id: int
    start: int
    count: int


@dataclass(frozen=True)
class Blocks:
    """Encoded blocks are kept as bytes: decoding (and its cost) belongs to the consumer."""

    req_id: int
    blocks: tuple[bytes, ...]


@dataclass(frozen=True)
class NewBlock:
    block: bytes


@dataclass(frozen=True)
class GetPeers:
    pass


@dataclass(frozen=True)
class Peers:
    addrs: tuple[str, ...]


@dataclass(frozen=True)
class Ping:
    nonce: int


@dataclass(frozen=True)
class Pong:
    nonce: int


@dataclass(frozen=True)
class Disconnect:
    reason: str


Message = (
    Hello
    | Status
    | GetHeaders
    | Headers
    | GetBlocks
    | Blocks
    | NewBlock
    | GetPeers
    | Peers
    | Ping
    | Pong
    | Disconnect
)

TYPE_IDS: dict[type, int] = {
    Hello: 1, Status: 2, GetHeaders: 3, Headers: 4, GetBlocks: 5, Blocks: 6, NewBlock: 7,
    GetPeers: 8, Peers: 9, Ping: 10, Pong: 11, Disconnect: 12,
}  # fmt: skip


def encode_payload(msg: Message, max_block: int) -> bytes:
    w = Writer().u8(TYPE_IDS[type(msg)])
    match msg:
        case Hello():
            w.u16(msg.version).text(msg.chain_id).fixed(msg.genesis_hash, 32)
            w.u64(msg.head_height).fixed(msg.head_hash, 32).u16(msg.listen_port)
            w.fixed(msg.node_id, 16)
        case Status():
            w.u64(msg.head_height).fixed(msg.head_hash, 32)
        case GetHeaders() | GetBlocks():
            w.u32(msg.req_id).u64(msg.start).u32(msg.count)
        case Headers():
            w.u32(msg.req_id).u32(len(msg.headers))
            for h in msg.headers:
                w.raw(h.encode())
        case Blocks():
            w.u32(msg.req_id).u32(len(msg.blocks))
            for b in msg.blocks:
                w.var(b)
        case NewBlock():
            w.var(msg.block)
        case GetPeers():
            pass
        case Peers():
            w.u32(len(msg.addrs))
            for a in msg.addrs:
                w.text(a)
        case Ping() | Pong():
            w.u64(msg.nonce)
        case Disconnect():
            w.text(msg.reason[:200])
    return w.getvalue()


def _height(r: Reader) -> int:
    h = r.u64()
    if h > MAX_HEIGHT:
        raise DecodeError(f"height {h} exceeds the maximum height {MAX_HEIGHT}")
    return h


def decode_payload(data: bytes, max_block: int) -> Message:
    r = Reader(data)
    t = r.u8()
    msg: Message
    if t == 1:
        msg = Hello(r.u16(), r.text(64), r.fixed(32), _height(r), r.fixed(32), r.u16(), r.fixed(16))
    elif t == 2:
        msg = Status(_height(r), r.fixed(32))
    elif t in (3, 5):
        req, start, count = r.u32(), _height(r), r.u32()
        if count == 0 or count > MAX_RANGE:
            raise DecodeError(f"range count {count} outside 1..{MAX_RANGE}")
        msg = GetHeaders(req, start, count) if t == 3 else GetBlocks(req, start, count)
    elif t == 4:
        req = r.u32()
        n = r.count(MAX_RANGE)
        msg = Headers(req, tuple(Header.decode(r.fixed(HEADER_LEN)) for _ in range(n)))
    elif t == 6:
        req = r.u32()
        n = r.count(MAX_RANGE)
        msg = Blocks(req, tuple(r.var(max_block) for _ in range(n)))
    elif t == 7:
        msg = NewBlock(r.var(max_block))
    elif t == 8:
        msg = GetPeers()
    elif t == 9:
        n = r.count(MAX_PEERS_LIST)
        msg = Peers(tuple(r.text(64) for _ in range(n)))
    elif t == 10:
        msg = Ping(r.u64())
    elif t == 11:
        msg = Pong(r.u64())
    elif t == 12:
        msg = Disconnect(r.text(256))
    else:
        raise DecodeError(f"unknown message type {t}")
    r.end()
    return msg
