"""RLP encoding, keccak256 and the ordered Merkle-Patricia trie root.

Execution clients identify a block by keccak256(rlp(header)), and header roots of transactions
and withdrawals are MPT roots keyed by rlp(index). Recomputing them here is what lets the
embedded endpoint refuse a payload whose blockHash does not match its contents.
"""

from __future__ import annotations

from collections.abc import Sequence

from Crypto.Hash import keccak

RlpItem = bytes | int | Sequence["RlpItem"]


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def int_to_min_bytes(value: int) -> bytes:
    """Big-endian without leading zeros; 0 is the empty string (RLP scalar rule)."""
    if value < 0:
        raise ValueError("RLP cannot encode negative integers")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    blen = int_to_min_bytes(length)
    return bytes([offset + 55 + len(blen)]) + blen


def encode(item: RlpItem) -> bytes:
    if isinstance(item, bool):
        raise TypeError("RLP has no booleans")
    if isinstance(item, int):
        item = int_to_min_bytes(item)
    if isinstance(item, bytes | bytearray):
        data = bytes(item)
        if len(data) == 1 and data[0] < 0x80:
            return data
        return _length_prefix(len(data), 0x80) + data
    payload = b"".join(encode(x) for x in item)
    return _length_prefix(len(payload), 0xC0) + payload


EMPTY_TRIE_ROOT = keccak256(encode(b""))
EMPTY_OMMERS_HASH = keccak256(encode([]))


def _nibbles(key: bytes) -> list[int]:
    out: list[int] = []
    for b in key:
        out.extend((b >> 4, b & 0x0F))
    return out


def _hex_prefix(nibbles: list[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        nibbles = [flag + 1, *nibbles]
    else:
        nibbles = [flag, 0, *nibbles]
    return bytes(nibbles[i] * 16 + nibbles[i + 1] for i in range(0, len(nibbles), 2))


def _node_ref(node: RlpItem) -> RlpItem:
    """Nodes whose encoding is shorter than 32 bytes are embedded, others referenced by hash."""
    enc = encode(node)
    return node if len(enc) < 32 else keccak256(enc)


def _build(items: list[tuple[list[int], bytes]], depth: int) -> RlpItem:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    prefix = 0
    first = items[0][0]
    while all(len(k) > depth + prefix for k, _ in items) and all(
        k[depth + prefix] == first[depth + prefix] for k, _ in items
    ):
        prefix += 1
    if prefix:
        child = _build(items, depth + prefix)
        return [_hex_prefix(first[depth : depth + prefix], leaf=False), _node_ref(child)]
    branch: list[RlpItem] = [b""] * 17
    for nib in range(16):
        sub = [(k, v) for k, v in items if len(k) > depth and k[depth] == nib]
        if sub:
            branch[nib] = _node_ref(_build(sub, depth + 1))
    for k, v in items:
        if len(k) == depth:
            branch[16] = v
    return branch


def trie_root(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Root of a Merkle-Patricia trie holding ``pairs`` (keys unique)."""
    if not pairs:
        return EMPTY_TRIE_ROOT
    items = sorted((_nibbles(k), v) for k, v in pairs)
    return keccak256(encode(_build(items, 0)))


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """Root used for transactions/withdrawals: key = rlp(index), value = the encoded item."""
    return trie_root([(encode(i), v) for i, v in enumerate(values)])
