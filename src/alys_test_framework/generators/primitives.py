"""Hashes, addresses and peer info: the small values every other generator is built from.

Each strategy has a valid form and, where a consumer must refuse something, an ``invalid_``
form whose every case breaks the format in one named way (``(kind, value)``), so a test can
say which refusal it expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

HASH_LEN = 32
ETH_ADDRESS_LEN = 20
NODE_ID_LEN = 16


def hashes(length: int = HASH_LEN) -> st.SearchStrategy[bytes]:
    """Opaque digests; the all-zero hash is included (it is the genesis parent)."""
    return st.one_of(st.just(b"\x00" * length), st.binary(min_size=length, max_size=length))


def hex_hashes(length: int = HASH_LEN) -> st.SearchStrategy[str]:
    return hashes(length).map(lambda b: "0x" + b.hex())


def invalid_hex_hashes(length: int = HASH_LEN) -> st.SearchStrategy[tuple[str, str]]:
    """(kind, text): too short, too long, no 0x prefix, a non-hex digit."""
    good = hashes(length).map(bytes.hex)
    return st.one_of(
        st.binary(min_size=0, max_size=length - 1).map(lambda b: ("short", "0x" + b.hex())),
        st.binary(min_size=length + 1, max_size=length + 8).map(lambda b: ("long", "0x" + b.hex())),
        good.map(lambda h: ("no_prefix", h)),
        good.map(lambda h: ("not_hex", "0x" + h[:-1] + "g")),
    )


def eth_addresses() -> st.SearchStrategy[str]:
    """20-byte account addresses as lower-case 0x-hex."""
    return st.binary(min_size=ETH_ADDRESS_LEN, max_size=ETH_ADDRESS_LEN).map(
        lambda b: "0x" + b.hex()
    )


def ports(low: int = 1) -> st.SearchStrategy[int]:
    return st.integers(low, 65535)


def peer_addresses() -> st.SearchStrategy[str]:
    """``host:port`` as the node's Peers message and admin_addPeer carry them (loopback hosts)."""
    hosts = st.sampled_from(["127.0.0.1", "localhost"]) | st.builds(
        "127.{}.{}.{}".format, st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)
    )
    return st.builds("{}:{}".format, hosts, ports())


def invalid_peer_addresses() -> st.SearchStrategy[tuple[str, str]]:
    """(kind, text): no port, port 0 or above 65535, a non-numeric port, empty host."""
    return st.one_of(
        st.just(("no_port", "127.0.0.1")),
        st.just(("port_zero", "127.0.0.1:0")),
        st.integers(65536, 10**6).map(lambda p: ("port_range", f"127.0.0.1:{p}")),
        st.text("abcxyz", min_size=1, max_size=5).map(lambda p: ("port_text", f"127.0.0.1:{p}")),
        ports().map(lambda p: ("empty_host", f":{p}")),
    )


@dataclass(frozen=True)
class PeerInfo:
    """One entry of ``admin_peers`` (docs/NODE_API.md): id, address, direction, head, score."""

    id: str
    addr: str
    inbound: bool
    head: int
    score: int

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "addr": self.addr, "inbound": self.inbound, "head": self.head,
                "score": self.score}  # fmt: skip


def peer_infos(max_head: int = 10_000) -> st.SearchStrategy[PeerInfo]:
    """Connected peers: a score above the ban threshold (P1: ≤ −100 is disconnected)."""
    return st.builds(
        PeerInfo,
        id=st.binary(min_size=NODE_ID_LEN, max_size=NODE_ID_LEN).map(bytes.hex),
        addr=peer_addresses(),
        inbound=st.booleans(),
        head=st.integers(0, max_head),
        score=st.integers(-99, 0),
    )
