"""Length-prefixed frame codec (sans-I/O): bytes in, complete payloads out.

A frame is a 4-byte big-endian length followed by that many payload bytes. The length is checked
against ``max_frame`` *before* buffering, so a peer cannot make us allocate an oversized frame.
``max_frame`` may change between frames (the protocol allows only small frames before the
handshake), so frames are taken one at a time with :meth:`FrameDecoder.pop` and each is judged
by the limit in force when it is taken.
"""

from __future__ import annotations

import struct

from alys_node.chain.codec import DecodeError

_LEN = struct.Struct(">I")


class FrameTooLarge(DecodeError):
    pass


def encode_frame(payload: bytes) -> bytes:
    return _LEN.pack(len(payload)) + payload


class FrameDecoder:
    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self.broken = False

    def feed(self, data: bytes) -> list[bytes]:
        """Return every payload completed by ``data``. Raises DecodeError (after which the
        decoder stays broken: the stream has lost framing and the connection must close)."""
        self.push(data)
        out: list[bytes] = []
        while (p := self.pop()) is not None:
            out.append(p)
        return out

    def push(self, data: bytes) -> None:
        if self.broken:
            raise DecodeError("decoder already failed")
        self._buf += data
        self._check_length()

    def pop(self) -> bytes | None:
        """The next complete payload, or None when the buffer holds no complete frame."""
        if self.broken:
            raise DecodeError("decoder already failed")
        if len(self._buf) < 4:
            return None
        (n,) = _LEN.unpack_from(self._buf)
        self._check_length()
        if len(self._buf) < 4 + n:
            return None
        payload = bytes(self._buf[4 : 4 + n])
        del self._buf[: 4 + n]
        return payload

    def _check_length(self) -> None:
        """Judge the pending frame's announced length as soon as it is known, so a too-large
        frame is refused before its bytes are buffered."""
        if len(self._buf) < 4:
            return
        (n,) = _LEN.unpack_from(self._buf)
        if n == 0 or n > self.max_frame:
            self.broken = True
            raise FrameTooLarge(f"frame length {n} outside 1..{self.max_frame}")

    @property
    def buffered(self) -> int:
        return len(self._buf)
