"""Length-prefixed frame codec (sans-I/O): bytes in, complete payloads out.

A frame is a 4-byte big-endian length followed by that many payload bytes. The length is checked
against ``max_frame`` *before* buffering, so a peer cannot make us allocate an oversized frame.
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
        if self.broken:
            raise DecodeError("decoder already failed")
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= 4:
            (n,) = _LEN.unpack_from(self._buf)
            if n == 0 or n > self.max_frame:
                self.broken = True
                raise FrameTooLarge(f"frame length {n} outside 1..{self.max_frame}")
            if len(self._buf) < 4 + n:
                break
            out.append(bytes(self._buf[4 : 4 + n]))
            del self._buf[: 4 + n]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)
