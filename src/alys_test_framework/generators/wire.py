"""The node's wire messages (docs/CHAIN_RULES.md W1–W3) as frames, valid and malformed.

The layouts are written here from the doc and NODE_API.md (u8 type, big-endian fixed-width
integers, ``u32 len ‖ bytes`` for variable fields), never imported from the node: a generator
that shared the node's codec would share its bugs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hypothesis import strategies as st

from .primitives import NODE_ID_LEN, hashes, peer_addresses

MESSAGE_TYPES = {
    "Hello": 1, "Status": 2, "GetHeaders": 3, "Headers": 4, "GetBlocks": 5, "Blocks": 6,
    "NewBlock": 7, "GetPeers": 8, "Peers": 9, "Ping": 10, "Pong": 11, "Disconnect": 12,
}  # fmt: skip
MAX_RANGE = 512
MAX_PEERS_LIST = 64
MAX_FRAME = 8 << 20
PROTOCOL_VERSION = 1
MALFORMED = ("unknown_type", "truncated", "trailing_bytes", "range_zero", "range_over",
             "peers_over", "oversized_frame", "zero_frame")  # fmt: skip


def _var(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


@dataclass(frozen=True)
class WireMessage:
    kind: str
    payload: bytes  # u8 type ‖ fields

    @property
    def frame(self) -> bytes:
        return frame(self.payload)

    def __repr__(self) -> str:
        return f"WireMessage({self.kind}, {len(self.payload)} B)"


def _msg(kind: str, body: bytes) -> WireMessage:
    return WireMessage(kind, bytes([MESSAGE_TYPES[kind]]) + body)


heights = st.integers(0, 2**40)
req_ids = st.integers(0, 2**32 - 1)


def hello(
    chain_id: str = "alys-generated", genesis: bytes | None = None
) -> st.SearchStrategy[WireMessage]:
    return st.builds(
        lambda g, h, hh, port, nid: _msg(
            "Hello",
            struct.pack(">H", PROTOCOL_VERSION)
            + _var(chain_id.encode())
            + (genesis or g)
            + struct.pack(">Q", h)
            + hh
            + struct.pack(">H", port)
            + nid,
        ),  # fmt: skip
        hashes(),
        heights,
        hashes(),
        st.integers(1, 65535),
        st.binary(min_size=NODE_ID_LEN, max_size=NODE_ID_LEN),
    )


def wire_messages() -> st.SearchStrategy[WireMessage]:
    """Every message type with fields inside the W3 limits."""
    rng = st.tuples(req_ids, heights, st.integers(1, MAX_RANGE))
    blocks = st.lists(st.binary(min_size=1, max_size=256), max_size=4)
    return st.one_of(
        hello(),
        st.builds(lambda h, hh: _msg("Status", struct.pack(">Q", h) + hh), heights, hashes()),
        rng.map(lambda r: _msg("GetHeaders", struct.pack(">IQI", *r))),
        rng.map(lambda r: _msg("GetBlocks", struct.pack(">IQI", *r))),
        st.builds(
            lambda r, hs: _msg("Headers", struct.pack(">II", r, len(hs)) + b"".join(hs)),
            req_ids,
            st.lists(st.binary(min_size=84, max_size=84), max_size=4),
        ),  # fmt: skip
        st.builds(
            lambda r, bs: _msg("Blocks", struct.pack(">II", r, len(bs)) + b"".join(map(_var, bs))),
            req_ids,
            blocks,
        ),  # fmt: skip
        st.binary(min_size=1, max_size=256).map(lambda b: _msg("NewBlock", _var(b))),
        st.just(_msg("GetPeers", b"")),
        st.lists(peer_addresses(), max_size=8).map(
            lambda a: _msg(
                "Peers", struct.pack(">I", len(a)) + b"".join(_var(x.encode()) for x in a)
            )
        ),
        st.integers(0, 2**64 - 1).map(lambda n: _msg("Ping", struct.pack(">Q", n))),
        st.integers(0, 2**64 - 1).map(lambda n: _msg("Pong", struct.pack(">Q", n))),
        st.text(max_size=40).map(lambda t: _msg("Disconnect", _var(t.encode()))),
    )


@dataclass(frozen=True)
class MalformedFrame:
    kind: str  # one of MALFORMED
    rule: str  # W1, W2 or W3
    data: bytes  # the bytes on the wire, length prefix included

    def __repr__(self) -> str:
        return f"MalformedFrame({self.rule} {self.kind}, {len(self.data)} B)"


@st.composite
def malformed_frames(draw: st.DrawFn) -> MalformedFrame:
    """Bytes a node must treat as fatal (penalty −100), each naming the rule it breaks."""
    kind = draw(st.sampled_from(MALFORMED))
    good = draw(wire_messages().filter(lambda m: len(m.payload) > 1))
    if kind == "unknown_type":
        t = draw(st.sampled_from([0, *range(13, 256)]))
        return MalformedFrame(kind, "W2", frame(bytes([t]) + good.payload[1:]))
    if kind == "truncated":
        return MalformedFrame(kind, "W2", frame(good.payload[:-1]))
    if kind == "trailing_bytes":
        return MalformedFrame(kind, "W2", frame(good.payload + b"\x00"))
    if kind in ("range_zero", "range_over"):
        count = 0 if kind == "range_zero" else draw(st.integers(MAX_RANGE + 1, 2**32 - 1))
        t = draw(st.sampled_from(["GetHeaders", "GetBlocks"]))
        return MalformedFrame(kind, "W3", frame(_msg(t, struct.pack(">IQI", 1, 1, count)).payload))
    if kind == "peers_over":
        n = MAX_PEERS_LIST + 1
        return MalformedFrame(
            kind,
            "W3",
            frame(_msg("Peers", struct.pack(">I", n) + _var(b"127.0.0.1:1") * n).payload),
        )
    if kind == "oversized_frame":
        return MalformedFrame(kind, "W1", struct.pack(">I", MAX_FRAME + draw(st.integers(1, 1024))))
    return MalformedFrame(kind, "W1", struct.pack(">I", 0))
