"""The request log: what every follower asked of every source, and what came back, as seen on
the wire by the fault proxy (never by the node's own accounting).

Why on the wire: "ranges are never fetched twice from different peers" and "share of ranges
served per source" are claims about traffic; a node that double-fetches would also report its
own bookkeeping wrongly. The taps are stream rewriters the proxy binds per connection
direction; they pass every byte through unchanged (``RangeTap``) or spoil one block of
chosen range responses (``CorruptingTap``), and decode frames by docs/CHAIN_RULES.md W1–W3
(``u32`` length, ``u8`` type; GetBlocks = 5: ``u32 req, u64 start, u32 count``; Blocks = 6:
``u32 req, u32 n, n x (u32 len, block)``) with the oracle's block codec, never the node's.

Rules of this module:
1. A request is *answered* when a Blocks reply with its request id passed the proxy toward the
   follower; its heights are the blocks' own heights.
2. A request *failed* at time t when, before t, its reply was empty, short or spoiled, or the
   connection to its peer was cut after it was sent (a fault the test applied,
   ``peer_failed``), or it had been unanswered for at least ``stall_timeout_s`` (S2: a stalled
   range may be re-assigned).
3. A *double fetch* is a request for heights an earlier request of the same follower to a
   different peer already covered, when that earlier request had not failed (rule 2) by then.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ....oracles.chain import EncodingError, OBlock
from ....targets.cluster.byzantine_catalogue import blocks_payload

GET_BLOCKS, BLOCKS = 5, 6
S2_STALL_TIMEOUT_S = 5.0  # docs/CHAIN_RULES.md S2: default stall timeout of a range request


@dataclass
class RangeRequest:
    follower: int
    peer: int
    req_id: int
    start: int
    count: int
    at: float
    answered_at: float | None = None
    heights: list[int] = field(default_factory=list)
    spoiled: bool = False

    @property
    def end(self) -> int:
        return self.start + self.count - 1

    def failed_by(self, t: float, cuts: list[tuple[float, int, int]], stall_s: float) -> bool:
        """Rule 2 (a cut fails the requests made before it even if their reply had passed the
        tap: a reply still paced out by the proxy dies with the connection)."""
        if any(self.at <= ct <= t and (f, p) == (self.follower, self.peer) for ct, f, p in cuts):
            return True
        if self.answered_at is not None and self.answered_at <= t:
            return self.spoiled or len(self.heights) < self.count
        return t - self.at >= stall_s


@dataclass
class RangeLog:
    """Every range request and reply of a cluster, in wire order."""

    requests: list[RangeRequest] = field(default_factory=list)
    cuts: list[tuple[float, int, int]] = field(default_factory=list)  # (t, follower, peer)
    on_request: Callable[[RangeRequest], None] | None = None  # in the proxy, before forwarding
    on_reply: Callable[[RangeRequest], None] | None = None  # in the proxy, before forwarding
    _open: dict[tuple[int, int, int], RangeRequest] = field(default_factory=dict)

    # -- taps (proxy rewriter factories, one per directed pair) -------------------------------
    def asks(self, follower: int, peer: int) -> Callable[[], RangeTap]:
        """Tap for follower -> peer traffic: records GetBlocks."""
        return lambda: RangeTap(self, follower, peer, asking=True)

    def answers(self, follower: int, peer: int) -> Callable[[], RangeTap]:
        """Tap for peer -> follower traffic: records Blocks replies."""
        return lambda: RangeTap(self, follower, peer, asking=False)

    def peer_failed(self, follower: int, peer: int) -> None:
        self.cuts.append((time.time(), follower, peer))

    # -- recording -----------------------------------------------------------------------------
    def _asked(self, follower: int, peer: int, req_id: int, start: int, count: int) -> None:
        r = RangeRequest(follower, peer, req_id, start, count, time.time())
        self.requests.append(r)
        self._open[(follower, peer, req_id)] = r
        if self.on_request is not None:
            self.on_request(r)

    def _answered(
        self, follower: int, peer: int, req_id: int, heights: list[int], spoiled: bool
    ) -> None:
        r = self._open.pop((follower, peer, req_id), None)
        if r is not None:
            r.answered_at, r.heights, r.spoiled = time.time(), heights, spoiled
            if self.on_reply is not None:
                self.on_reply(r)

    # -- questions -----------------------------------------------------------------------------
    def of(self, follower: int) -> list[RangeRequest]:
        return [r for r in self.requests if r.follower == follower]

    def outstanding(self, follower: int) -> list[RangeRequest]:
        return [r for r in self.of(follower) if r.answered_at is None]

    def blocks_served(self, follower: int | None = None) -> dict[int, int]:
        """Blocks delivered per source (good replies only), to one follower or all."""
        out: dict[int, int] = {}
        for r in self.requests:
            if (follower is None or r.follower == follower) and not r.spoiled:
                out[r.peer] = out.get(r.peer, 0) + len(r.heights)
        return out

    def double_fetches(self, stall_s: float = S2_STALL_TIMEOUT_S) -> list[str]:
        """Rule 3, over every follower."""
        bad: list[str] = []
        by_f: dict[int, list[RangeRequest]] = {}
        for r in self.requests:
            by_f.setdefault(r.follower, []).append(r)
        for f, reqs in by_f.items():
            for i, r in enumerate(reqs):
                for e in reqs[:i]:
                    if e.peer == r.peer or e.end < r.start or r.end < e.start:
                        continue
                    if not e.failed_by(r.at, self.cuts, stall_s):
                        bad.append(
                            f"node-{f} asked node-{r.peer} for {r.start}..{r.end} after node-"
                            f"{e.peer} had been asked {e.start}..{e.end} and had not failed"
                        )
                        break
        return bad

    def owed_by(self, follower: int, peer: int) -> list[RangeRequest]:
        return [r for r in self.outstanding(follower) if r.peer == peer]

    def heights_delivered(self, follower: int) -> set[int]:
        return {h for r in self.of(follower) if not r.spoiled for h in r.heights}


class RangeTap:
    """Stateful rewriter of one connection direction: decodes frames, passes bytes through."""

    def __init__(self, log: RangeLog, follower: int, peer: int, asking: bool) -> None:
        self.log, self.follower, self.peer, self.asking = log, follower, peer, asking
        self._buf = b""
        self._broken = False

    def feed(self, data: bytes) -> bytes:
        if self._broken:
            return data
        self._buf += data
        out = bytearray()
        while len(self._buf) >= 4:
            (n,) = struct.unpack_from(">I", self._buf)
            if len(self._buf) < 4 + n:
                break
            frame, self._buf = self._buf[: 4 + n], self._buf[4 + n :]
            try:
                out += self._frame(frame[4:]) or frame
            except (struct.error, EncodingError, IndexError):
                self._broken = True  # not the documented protocol: pass everything through
                return bytes(out) + frame + self._buf
        return bytes(out)

    def _frame(self, p: bytes) -> bytes | None:
        if not p:
            return None
        if self.asking and p[0] == GET_BLOCKS:
            req, start, count = struct.unpack_from(">IQI", p, 1)
            self.log._asked(self.follower, self.peer, req, start, count)
        elif not self.asking and p[0] == BLOCKS:
            req, n = struct.unpack_from(">II", p, 1)
            blocks, off = [], 9
            for _ in range(n):
                (ln,) = struct.unpack_from(">I", p, off)
                blocks.append(p[off + 4 : off + 4 + ln])
                off += 4 + ln
            new = self.rewrite(req, blocks)
            heights = [OBlock.decode(b).height for b in blocks]
            self.log._answered(self.follower, self.peer, req, heights, new is not None)
            if new is not None:
                return struct.pack(">I", len(p := blocks_payload(req, new))) + p
        return None

    def rewrite(self, req_id: int, blocks: list[bytes]) -> list[bytes] | None:
        """A spoiled reply's blocks, or None to pass the reply unchanged."""
        return None


@dataclass
class Corruption:
    """What a corrupting tap did: the heights whose served copy had a flipped byte."""

    every: int = 1  # spoil every n-th reply
    limit: int = 3  # at most this many replies
    offset: int = 0  # position of the first spoiled block: 0 first, 1 middle, 2 last
    heights: list[int] = field(default_factory=list)
    replies: int = 0


class CorruptingTap(RangeTap):
    """Flips one byte of the signature of one block (first, middle, last in turn) of chosen
    replies: a corrupted block inside well-framed bytes, so the block rules must catch it (the
    header, hence the hash, is unchanged: only B1 can tell)."""

    def __init__(self, log: RangeLog, follower: int, peer: int, c: Corruption) -> None:
        super().__init__(log, follower, peer, asking=False)
        self.c = c

    def rewrite(self, req_id: int, blocks: list[bytes]) -> list[bytes] | None:
        self.c.replies += 1
        spoiled = len(self.c.heights)
        if not blocks or spoiled >= self.c.limit or self.c.replies % self.c.every:
            return None
        i = (0, len(blocks) // 2, len(blocks) - 1)[(spoiled + self.c.offset) % 3]
        b = OBlock.decode(blocks[i])
        sig = bytearray(b.signature)
        sig[len(sig) // 2] ^= 0x5A  # one flipped byte, mid-signature
        self.c.heights.append(b.height)
        return [*blocks[:i], b.replace(signature=bytes(sig)).encode(), *blocks[i + 1 :]]


def corrupting(log: RangeLog, follower: int, peer: int, c: Corruption) -> Callable[[], RangeTap]:
    return lambda: CorruptingTap(log, follower, peer, c)
