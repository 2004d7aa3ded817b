"""Binary SHA-256 Merkle root over transaction hashes.

An odd node is paired with itself (Bitcoin style); leaves and inner nodes are domain-separated
(0x00 / 0x01 prefixes) and the root also commits to the number of transactions, so the
duplicate-last-leaf ambiguity (CVE-2012-2459) cannot give two bodies one root. The empty body has
the root sha256(b"").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


EMPTY_ROOT = sha256(b"")


def tx_hash(tx: bytes) -> bytes:
    return sha256(b"\x00" + tx)


def merkle_root(txs: Sequence[bytes]) -> bytes:
    if not txs:
        return EMPTY_ROOT
    level = [tx_hash(t) for t in txs]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return sha256(b"\x02" + len(txs).to_bytes(8, "big") + level[0])
