"""Messages exchanged between the node's actors."""

from __future__ import annotations

from dataclasses import dataclass, field

from alys_node.chain.block import Block


# -- storage -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Append:
    blocks: list[Block]


@dataclass(frozen=True)
class GetBlock:
    height: int | None = None
    hash: bytes | None = None


@dataclass(frozen=True)
class GetRange:
    start: int
    count: int
    max_bytes: int


@dataclass(frozen=True)
class GetHeaderRange:
    start: int
    count: int


@dataclass(frozen=True)
class GetCheckpoints:
    pass


@dataclass(frozen=True)
class GetHashes:
    start: int
    end: int  # inclusive


@dataclass(frozen=True)
class Replace:
    ancestor: int
    blocks: list[Block]


@dataclass(frozen=True)
class SwitchFork:
    """Adopt a longer branch forking off at ``ancestor`` (signatures already verified)."""

    ancestor: int
    blocks: list[Block]
    source: str | None = None


# -- chain ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportBlocks:
    """Blocks extending the head. ``verified`` = signatures already checked (sync pipeline);
    ``source`` = peer id to exclude from gossip and to blame; ``gossip`` = announce after commit."""

    blocks: list[Block]
    source: str | None = None
    verified: bool = False
    gossip: bool = False


@dataclass
class ImportResult:
    ok: bool
    head: int
    reason: str = ""
    bad_height: int | None = None
    fork: bool = False  # the first block does not link to our head: maybe a competing branch


@dataclass(frozen=True)
class GossipBlock:
    data: bytes
    source: str


@dataclass(frozen=True)
class Produce:
    n: int


@dataclass(frozen=True)
class GetHead:
    pass


# -- network -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendRequest:
    peer: str
    start: int
    count: int


@dataclass(frozen=True)
class CancelRequest:
    peer: str
    req_id: int


@dataclass(frozen=True)
class Penalise:
    peer: str
    delta: int
    reason: str


@dataclass(frozen=True)
class Announce:
    data: bytes
    block_hash: bytes
    exclude: str | None = None
    forwarded: bool = False


@dataclass(frozen=True)
class NewHead:
    height: int
    hash: bytes


@dataclass(frozen=True)
class AddPeer:
    addr: str


@dataclass(frozen=True)
class RemovePeer:
    who: str


@dataclass(frozen=True)
class PeerInfo:
    pass


@dataclass(frozen=True)
class BanInfo:
    pass


# -- sync ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeerHead:
    peer: str
    head: int


@dataclass(frozen=True)
class PeerGone:
    peer: str


@dataclass(frozen=True)
class BlocksArrived:
    peer: str
    req_id: int
    blocks: tuple[bytes, ...]


@dataclass(frozen=True)
class RangeChecked:
    peer: str
    start: int
    blocks: list[Block] = field(default_factory=list)
    bad: str | None = None  # reason when invalid


@dataclass(frozen=True)
class SyncStatus:
    pass


@dataclass(frozen=True)
class Tick:
    pass
