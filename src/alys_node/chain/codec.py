"""Tiny canonical binary reader/writer.

Every multi-byte integer is big-endian and fixed-width; every variable field is length-prefixed.
One encoding per value means a block hash is a function of its content, not of the encoder.
Decoding untrusted bytes raises :class:`DecodeError` only, so network code can turn any bad input
into a peer penalty with a single ``except``.
"""

from __future__ import annotations

import struct


class DecodeError(ValueError):
    """Bytes that do not form a valid value (truncated, overlong, out of range)."""


_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


class Writer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, v: int) -> Writer:
        self._parts.append(_U8.pack(v))
        return self

    def u16(self, v: int) -> Writer:
        self._parts.append(_U16.pack(v))
        return self

    def u32(self, v: int) -> Writer:
        self._parts.append(_U32.pack(v))
        return self

    def u64(self, v: int) -> Writer:
        self._parts.append(_U64.pack(v))
        return self

    def fixed(self, b: bytes, n: int) -> Writer:
        if len(b) != n:
            raise ValueError(f"expected {n} bytes, got {len(b)}")
        self._parts.append(b)
        return self

    def var(self, b: bytes) -> Writer:
        self._parts.append(_U32.pack(len(b)))
        self._parts.append(b)
        return self

    def text(self, s: str) -> Writer:
        return self.var(s.encode())

    def raw(self, b: bytes) -> Writer:
        self._parts.append(b)
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    def __init__(self, data: bytes | memoryview, pos: int = 0) -> None:
        self._d = bytes(data)
        self._p = pos

    @property
    def pos(self) -> int:
        return self._p

    def remaining(self) -> int:
        return len(self._d) - self._p

    def _take(self, n: int) -> bytes:
        if n < 0 or self._p + n > len(self._d):
            raise DecodeError(
                f"truncated: need {n} bytes at offset {self._p}, have {self.remaining()}"
            )
        b = self._d[self._p : self._p + n]
        self._p += n
        return b

    def u8(self) -> int:
        return _U8.unpack(self._take(1))[0]

    def u16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self._take(8))[0]

    def fixed(self, n: int) -> bytes:
        return self._take(n)

    def var(self, max_len: int) -> bytes:
        n = self.u32()
        if n > max_len:
            raise DecodeError(f"field of {n} bytes exceeds limit {max_len}")
        return self._take(n)

    def text(self, max_len: int = 256) -> str:
        try:
            return self.var(max_len).decode()
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid utf-8: {e}") from None

    def count(self, max_items: int) -> int:
        n = self.u32()
        if n > max_items:
            raise DecodeError(f"list of {n} items exceeds limit {max_items}")
        return n

    def end(self) -> None:
        if self._p != len(self._d):
            raise DecodeError(f"{len(self._d) - self._p} trailing bytes")
