"""Per-peer protocol state machine (sans-I/O, in the manner of h11/h2).

``receive_data(bytes)`` returns events; outgoing bytes accumulate and are taken with
``data_to_send()``. The machine owns framing, the handshake (version, chain id, genesis), request
id bookkeeping and Ping/Pong; it never touches a socket or a clock, so it can be driven by TCP,
by tests, or by a simulator with virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from alys_node.chain.codec import DecodeError
from alys_node.p2p import messages as m
from alys_node.p2p.frames import FrameDecoder, FrameTooLarge, encode_frame

HANDSHAKE_FRAME = 64 << 10  # largest frame accepted before the handshake (a Hello is ~150 B)


class State(str, Enum):
    HANDSHAKE = "handshake"
    READY = "ready"
    CLOSED = "closed"


class Penalty:
    """Score deltas; a peer whose score reaches BAN_THRESHOLD is disconnected and banned."""

    MALFORMED = -100
    OVERSIZED = -100
    WRONG_CHAIN = -100
    INVALID_BLOCK = -100
    PROTOCOL = -40
    UNSOLICITED = -20
    BAD_RANGE = -20
    TIMEOUT = -10


@dataclass(frozen=True)
class HandshakeComplete:
    hello: m.Hello


@dataclass(frozen=True)
class MessageReceived:
    msg: m.Message


@dataclass(frozen=True)
class Violation:
    """The peer misbehaved. ``fatal`` violations have already closed the machine."""

    reason: str
    penalty: int
    fatal: bool
    ban: bool = True


@dataclass(frozen=True)
class PeerClosed:
    reason: str


Event = HandshakeComplete | MessageReceived | Violation | PeerClosed


class PeerProtocol:
    def __init__(
        self,
        local: m.Hello,
        *,
        max_frame: int = 8 << 20,
        max_block: int = 1 << 20,
        handshake_frame: int = HANDSHAKE_FRAME,
    ) -> None:
        self.local = local
        self.max_block = max_block
        self.max_frame = max_frame
        self.state = State.HANDSHAKE
        self.remote: m.Hello | None = None
        # until the peer has proven it speaks our chain, it may only make us buffer a Hello
        self._decoder = FrameDecoder(min(max_frame, handshake_frame))
        self._out: list[bytes] = []
        self._pending: dict[int, type] = {}  # req_id -> expected response type
        self._next_req = 1
        self._pings: set[int] = set()
        self.bytes_in = 0
        self.bytes_out = 0
        self._queue(local)

    # -- output ------------------------------------------------------------------------------
    def _queue(self, msg: m.Message) -> None:
        frame = encode_frame(m.encode_payload(msg, self.max_block))
        self.bytes_out += len(frame)
        self._out.append(frame)

    def data_to_send(self) -> bytes:
        data = b"".join(self._out)
        self._out.clear()
        return data

    def send(self, msg: m.Message) -> None:
        if self.state is not State.READY:
            raise RuntimeError(f"cannot send {type(msg).__name__} in state {self.state.value}")
        self._queue(msg)

    def request(self, kind: type, start: int, count: int) -> int:
        """Send GetBlocks/GetHeaders and remember the id so only a matching reply is accepted."""
        req_id = self._next_req
        self._next_req = (self._next_req % 0xFFFFFFFF) + 1
        resp = m.Blocks if kind is m.GetBlocks else m.Headers
        self._pending[req_id] = resp
        self.send(kind(req_id, start, count))
        return req_id

    def cancel(self, req_id: int) -> None:
        """Forget a request (timed out): a late reply then counts as unsolicited-but-harmless."""
        self._pending.pop(req_id, None)

    def ping(self, nonce: int) -> None:
        self._pings.add(nonce)
        self.send(m.Ping(nonce))

    def close(self, reason: str) -> None:
        if self.state is State.CLOSED:
            return
        if self.state is State.READY or self.remote is None:
            self._queue(m.Disconnect(reason))
        self.state = State.CLOSED

    # -- input -------------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> list[Event]:
        if self.state is State.CLOSED:
            return []
        self.bytes_in += len(data)
        events: list[Event] = []
        try:
            self._decoder.push(data)
            while self.state is not State.CLOSED and (p := self._decoder.pop()) is not None:
                try:
                    msg = m.decode_payload(p, self.max_block)
                except DecodeError as e:
                    events.append(self._fatal(f"malformed message: {e}", Penalty.MALFORMED))
                    break
                events.extend(self._on_message(msg))
        except FrameTooLarge as e:
            events.append(self._fatal(f"oversized frame: {e}", Penalty.OVERSIZED))
        except DecodeError as e:
            events.append(self._fatal(f"malformed frame: {e}", Penalty.MALFORMED))
        return events

    def _fatal(self, reason: str, penalty: int, ban: bool = True) -> Violation:
        self.close(reason)
        return Violation(reason, penalty, True, ban)

    def _on_message(self, msg: m.Message) -> list[Event]:
        if isinstance(msg, m.Disconnect):
            self.state = State.CLOSED
            return [PeerClosed(f"remote disconnected: {msg.reason}")]
        if self.state is State.HANDSHAKE:
            if not isinstance(msg, m.Hello):
                return [self._fatal(f"expected Hello, got {type(msg).__name__}", Penalty.PROTOCOL)]
            return [self._on_hello(msg)]
        if isinstance(msg, m.Hello):
            return [Violation("duplicate Hello", Penalty.PROTOCOL, False)]
        if isinstance(msg, m.Ping):
            self._queue(m.Pong(msg.nonce))
            return []
        if isinstance(msg, m.Pong):
            if msg.nonce not in self._pings:
                return [Violation("unsolicited Pong", Penalty.UNSOLICITED, False)]
            self._pings.discard(msg.nonce)
            return [MessageReceived(msg)]
        if isinstance(msg, m.Blocks | m.Headers):
            expected = self._pending.pop(msg.req_id, None)
            if expected is None:
                return []  # late reply to a cancelled request: ignore, the peer may just be slow
            if expected is not type(msg):
                return [Violation("response type mismatch", Penalty.UNSOLICITED, False)]
        return [MessageReceived(msg)]

    def _on_hello(self, h: m.Hello) -> Event:
        loc = self.local
        if h.version != loc.version:
            return self._fatal(f"protocol version {h.version} != {loc.version}", Penalty.PROTOCOL)
        if h.chain_id != loc.chain_id:
            return self._fatal(f"wrong chain id {h.chain_id!r}", Penalty.WRONG_CHAIN)
        if h.genesis_hash != loc.genesis_hash:
            return self._fatal("wrong genesis hash", Penalty.WRONG_CHAIN)
        if h.node_id == loc.node_id:
            return self._fatal("connected to self", 0, ban=False)
        self.remote = h
        self.state = State.READY
        self._decoder.max_frame = self.max_frame
        return HandshakeComplete(h)
