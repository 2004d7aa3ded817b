"""Ordered Merkle-Patricia trie roots (transactions, withdrawals), as the yellow paper defines.

Rules: keys are ``rlp(index)``; a node is the RLP of its list; a child whose RLP is shorter than
32 bytes is embedded, longer ones are referenced by keccak256; paths are hex-prefix encoded with
the leaf flag; the empty trie's root is keccak256(rlp(b"")). Built on the rlp and eth-hash
packages, independently of any execution client's trie.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak

EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))


def _nibbles(key: bytes) -> list[int]:
    return [n for b in key for n in (b >> 4, b & 0x0F)]


def _hex_prefix(nibbles: list[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    padded = [flag + 1, *nibbles] if len(nibbles) % 2 else [flag, 0, *nibbles]
    return bytes(padded[i] * 16 + padded[i + 1] for i in range(0, len(padded), 2))


def _ref(node: Any) -> Any:
    encoded = rlp.encode(node)
    return node if len(encoded) < 32 else keccak(encoded)


def _node(items: list[tuple[list[int], bytes]], depth: int) -> Any:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first = items[0][0]
    shared = 0
    while all(
        len(k) > depth + shared and k[depth + shared] == first[depth + shared] for k, _ in items
    ):
        shared += 1
    if shared:
        return [
            _hex_prefix(first[depth : depth + shared], leaf=False),
            _ref(_node(items, depth + shared)),
        ]
    branch: list[Any] = [b""] * 17
    for nibble in range(16):
        sub = [(k, v) for k, v in items if len(k) > depth and k[depth] == nibble]
        if sub:
            branch[nibble] = _ref(_node(sub, depth + 1))
    for k, v in items:
        if len(k) == depth:
            branch[16] = v
    return branch


def trie_root(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Root of the trie holding ``pairs`` (unique keys)."""
    if not pairs:
        return EMPTY_TRIE_ROOT
    items = sorted((_nibbles(k), v) for k, v in pairs)
    return keccak(rlp.encode(_node(items, 0)))


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """Root of a list: item ``i`` stored under key ``rlp(i)``."""
    return trie_root([(rlp.encode(i), v) for i, v in enumerate(values)])
