"""Sync state machine (sans-I/O): events in, actions out.

The RangeScheduler decides which ranges to download from whom; this machine keeps everything
around it that used to live in the actor: which request id carries which range, which ranges are
verified and waiting for their turn, the one import in flight, and the fork probe. It never
awaits: every input is a method call returning the actions (sync/actions.py) the adapter must
perform, and the adapter reports each result back through the matching method.

Rules:
1. Requests come from the scheduler on ``poll(now, head)``; the head is the chain's published
   head, so blocks arriving by gossip or local production advance sync too.
2. A request the network could not send (the peer just left) removes that peer.
3. A reply is matched by (peer, request id); a reply nobody waits for is ignored.
4. A reply must decode, hold at most the blocks asked for, at consecutive heights from the range
   start, each valid and linked to the previous; otherwise the range is downloaded again (from
   someone else if possible) and the sender penalised INVALID_BLOCK.
5. An empty reply re-assigns the range and penalises the sender TIMEOUT.
6. A good reply goes to signature verification, off the loop and out of order; a forged range
   is downloaded again and its sender penalised INVALID_BLOCK.
7. Verified ranges are imported strictly in height order, one import at a time; a range wholly at
   or below the head is dropped. No import starts while a fork switch is being prepared.
8. An import refused as a *fork* (fork_choice rule 4) starts a fork probe if none is running:
   the sender is asked for the blocks below the range (fork_choice rule 9); below a range that
   starts at height 1 there is nothing to ask (the wire refuses an empty request), so the probe
   goes straight to the fork point, which can only be genesis. Any other refusal,
   or a fork while a probe runs, re-assigns the range and penalises its sender (BAD_RANGE for a
   fork, INVALID_BLOCK otherwise).
9. A probe answer must hold exactly the probed heights; the fork point is found by fork_choice
   rule 8 against our hashes; the probed blocks are signature-checked; then the chain is asked
   to switch (it applies fork_choice rules 5-7). Any failure re-assigns the range and penalises
   the sender BAD_RANGE ("fork switch failed: <why>"); success advances the head.
10. A stalled request is cancelled and its peer penalised TIMEOUT.
11. A peer that leaves takes its requests with it (their ranges are re-assigned, except under the
    no-range-reassign seeded bug); a probe it still owed fails without a penalty.
12. An answer (request_sent, import_done, probe_sent, hashes_loaded, branch_verified,
    switch_done) that arrives when the machine is not waiting for it is ignored.
13. A probe unanswered by its deadline (the stall timeout, times the peer's patience) is
    cancelled, its peer penalised TIMEOUT and the range downloaded again: a peer that answers
    pings but not probes cannot hold sync at the fork forever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from alys_node.chain.block import Block
from alys_node.chain.codec import DecodeError
from alys_node.chain.fork_choice import MAX_REORG, find_ancestor, probe_window
from alys_node.chain.spec import ChainSpec
from alys_node.chain.validation import InvalidBlock, check_range
from alys_node.p2p.protocol import Penalty
from alys_node.sync.actions import (
    Action,
    Cancel,
    ChainReply,
    Import,
    LoadHashes,
    Log,
    Penalise,
    SendProbe,
    SendRange,
    SwitchBranch,
    Verify,
    VerifyBranch,
    WarmVerifier,
    debug,
    warning,
)
from alys_node.sync.scheduler import RangeScheduler, Stalled


class ForkPhase(Enum):
    SENDING = "sending"  # SendProbe issued, request id not known yet
    AWAITING = "awaiting"  # the probe is on the wire
    LOADING = "loading"  # answer in hand, our hashes being loaded
    VERIFYING = "verifying"  # fork point found, probed blocks being signature-checked
    SWITCHING = "switching"  # the chain is deciding


_PREPARING = (ForkPhase.SENDING, ForkPhase.LOADING, ForkPhase.VERIFYING, ForkPhase.SWITCHING)


@dataclass
class _Fork:
    peer: str
    start: int  # first probed height
    nxt: int  # start of the verified range that did not link to our head
    pending: list[Block]
    phase: ForkPhase = ForkPhase.SENDING
    req_id: int | None = None
    deadline: float = 0.0
    ancestor: int = 0
    branch: list[Block] = field(default_factory=list)


class SyncMachine:
    def __init__(
        self, spec: ChainSpec, scheduler: RangeScheduler, bugs: frozenset[str] = frozenset()
    ) -> None:
        self.spec = spec
        self.sched = scheduler
        self.bugs = bugs  # seeded bugs hedged-ranges, exact-successor-commit (alys_node.bugs)
        self._reqs: dict[tuple[str, int], tuple[int, int]] = {}  # (peer, req id) -> (start, n)
        self._by_start: dict[int, tuple[str, int]] = {}  # range start -> (peer, req id)
        self._ready: dict[int, tuple[str, list[Block]]] = {}  # verified, awaiting import
        self._importing: tuple[str, int, list[Block]] | None = None
        self._fork: _Fork | None = None

    # -- observation ---------------------------------------------------------------------
    @property
    def syncing(self) -> bool:
        return self.sched.syncing

    @property
    def target(self) -> int:
        return self.sched.target

    @property
    def fork_phase(self) -> ForkPhase | None:
        return self._fork.phase if self._fork else None

    @property
    def importing(self) -> int | None:
        """Start of the range being imported, if any."""
        return self._importing[1] if self._importing else None

    def requests(self) -> dict[tuple[str, int], tuple[int, int]]:
        return dict(self._reqs)

    def ready(self) -> dict[int, str]:
        return {s: peer for s, (peer, _) in self._ready.items()}

    # -- peers and time ------------------------------------------------------------------
    def peer_head(self, peer: str, head: int) -> list[Action]:
        self.sched.add_peer(peer, head)
        return [WarmVerifier()] if head > self.sched.committed else []

    def peer_gone(self, peer: str) -> list[Action]:
        """Rule 11."""
        self.sched.remove_peer(peer)
        f = self._fork
        if f and f.peer == peer and f.phase in (ForkPhase.SENDING, ForkPhase.AWAITING):
            self._fork = None
            self.sched.on_invalid(peer, f.nxt)
        for key in [k for k in self._reqs if k[0] == peer]:
            start, _ = self._reqs.pop(key)
            if self._by_start.get(start) == key and self.sched.reassign:
                del self._by_start[start]
        return []

    def poll(self, now: float, head: int) -> list[Action]:
        """Rules 1, 10 and 13."""
        self.sched.on_committed(head)
        out: list[Action] = []
        f = self._fork
        if f and f.phase is ForkPhase.AWAITING and f.deadline <= now and f.req_id is not None:
            self._fork = None
            self.sched.on_invalid(f.peer, f.nxt)
            out += [
                Cancel(f.peer, f.req_id),
                Penalise(f.peer, Penalty.TIMEOUT, f"fork probe below {f.nxt} unanswered"),
                warning("fork probe timed out", peer=f.peer, start=f.start),
                *self._commit_ready(),
            ]
        for a in self.sched.poll(now):
            if isinstance(a, Stalled):
                old = self._by_start.pop(a.start, None)
                if old:
                    self._reqs.pop(old, None)
                    out.append(Cancel(*old))
                out.append(Penalise(a.peer, Penalty.TIMEOUT, f"range {a.start} stalled"))
                out.append(warning("range stalled", peer=a.peer, start=a.start))
            else:
                out.append(debug("range requested", peer=a.peer, start=a.start))
                out.append(SendRange(a.peer, a.start, a.count))
                if "hedged-ranges" in self.bugs:  # seeded: the same range of another peer too
                    other = [p for p in sorted(self.sched.peers) if p != a.peer]
                    if other:
                        out.append(SendRange(other[0], a.start, a.count))
        return out

    def request_sent(self, peer: str, start: int, count: int, req_id: int | None) -> list[Action]:
        """Rule 2."""
        if req_id is None:
            self.sched.remove_peer(peer)
        else:
            self._reqs[(peer, req_id)] = (start, count)
            self._by_start[start] = (peer, req_id)
        return []

    # -- the data path -------------------------------------------------------------------
    def blocks_arrived(
        self, peer: str, req_id: int, raw: Sequence[bytes], now: float
    ) -> list[Action]:
        """Rules 3-6 (and 9 for a probe's answer)."""
        key = (peer, req_id)
        f = self._fork
        if f and f.phase is ForkPhase.AWAITING and (f.peer, f.req_id) == key:
            return self._probe_answered(f, raw)
        job = self._reqs.pop(key, None)
        if job is None:
            return []
        start, count = job
        if self._by_start.get(start) == key:
            del self._by_start[start]
        try:
            blocks = [Block.decode(x) for x in raw]
            if len(blocks) > count:
                raise InvalidBlock(f"{len(blocks)} blocks for a request of {count}")
            for i, blk in enumerate(blocks):
                if blk.height != start + i:
                    raise InvalidBlock(f"expected height {start + i}, got {blk.height}")
            check_range(blocks, self.spec)
        except (DecodeError, InvalidBlock) as e:
            self.sched.on_response(peer, start, 0, now)
            self.sched.on_invalid(peer, start)
            return [Penalise(peer, Penalty.INVALID_BLOCK, f"bad range {start}: {e}")]
        self.sched.on_response(peer, start, len(blocks), now)
        out: list[Action] = [debug("range arrived", peer=peer, start=start, n=len(blocks))]
        if not blocks:
            out.append(Penalise(peer, Penalty.TIMEOUT, f"empty range at {start}"))
        else:
            out.append(Verify(peer, start, blocks))
        return out

    def range_checked(
        self, peer: str, start: int, blocks: list[Block], bad: str | None
    ) -> list[Action]:
        """Rule 6; a good range joins the queue of rule 7."""
        if bad is not None:
            self.sched.on_invalid(peer, start)
            return [Penalise(peer, Penalty.INVALID_BLOCK, f"forged range {start}: {bad}")]
        self._ready[start] = (peer, blocks)
        return [debug("range verified", start=start), *self._commit_ready()]

    def _commit_ready(self) -> list[Action]:
        """Rule 7."""
        if self._importing is not None or (self._fork and self._fork.phase in _PREPARING):
            return []
        head = self.sched.committed
        for s in [s for s, (_, bl) in self._ready.items() if s + len(bl) - 1 <= head]:
            del self._ready[s]
        nxt = next((s for s, (_, bl) in self._ready.items() if s <= head + 1 < s + len(bl)), None)
        if "exact-successor-commit" in self.bugs and nxt != head + 1:  # seeded: no overlap
            nxt = None
        if nxt is None:
            return []
        peer, blocks = self._ready.pop(nxt)
        self._importing = (peer, nxt, blocks)
        return [Import(peer, nxt, blocks)]

    def import_done(self, reply: ChainReply) -> list[Action]:
        """Rules 7-8."""
        job = self._importing
        if job is None:
            return []
        self._importing = None
        peer, nxt, blocks = job
        if not reply.ok and reply.fork and self._fork is None:
            start, count = probe_window(nxt)
            self._fork = _Fork(peer, start, nxt, blocks)
            if count == 0:
                self._fork.phase = ForkPhase.AWAITING
                return self._probe_answered(self._fork, ())
            return [SendProbe(peer, start, count)]
        if not reply.ok:
            self.sched.on_invalid(peer, nxt)
            penalty = Penalty.BAD_RANGE if reply.fork else Penalty.INVALID_BLOCK
            return [
                Penalise(peer, penalty, f"range {nxt}: {reply.reason}"),
                warning("range rejected", peer=peer, reason=reply.reason),
            ]
        self.sched.on_committed(reply.head)
        return [debug("range committed", start=nxt, head=reply.head), *self._commit_ready()]

    # -- forks (rule 9) ------------------------------------------------------------------
    def probe_sent(self, req_id: int | None, now: float) -> list[Action]:
        f = self._fork
        if f is None or f.phase is not ForkPhase.SENDING:
            return []
        if req_id is None:  # the peer left before we could ask: fetch the range elsewhere
            self._fork = None
            self.sched.on_invalid(f.peer, f.nxt)
            return []
        f.req_id, f.phase = req_id, ForkPhase.AWAITING
        peer = self.sched.peers.get(f.peer)
        f.deadline = now + self.sched.stall_timeout * (peer.patience if peer else 1.0)
        fields = {"peer": f.peer, "from": f.start, "to": f.nxt - 1}
        return [Log(logging.INFO, "possible fork, probing peer", fields)]

    def _probe_answered(self, f: _Fork, raw: Sequence[bytes]) -> list[Action]:
        try:
            theirs = [Block.decode(x) for x in raw]
            if [x.height for x in theirs] != list(range(f.start, f.nxt)):
                raise InvalidBlock("fork probe answered with the wrong heights")
        except (DecodeError, InvalidBlock) as e:
            return self._fork_failed(str(e))
        f.branch = theirs + f.pending
        f.phase = ForkPhase.LOADING
        return [LoadHashes(f.start - 1, f.nxt - 1)]

    def hashes_loaded(self, ours: Mapping[int, bytes]) -> list[Action]:
        f = self._fork
        if f is None or f.phase is not ForkPhase.LOADING:
            return []
        anc = find_ancestor(ours, f.branch)
        if anc is None:
            return self._fork_failed(f"no common ancestor within {MAX_REORG} blocks")
        f.ancestor = anc
        f.branch = [x for x in f.branch if x.height > anc]
        f.phase = ForkPhase.VERIFYING
        return [VerifyBranch([x for x in f.branch if x.height < f.nxt])]

    def branch_verified(self, bad: int | None) -> list[Action]:
        f = self._fork
        if f is None or f.phase is not ForkPhase.VERIFYING:
            return []
        if bad is not None:
            return self._fork_failed(f"invalid signature in block {f.branch[bad].height}")
        f.phase = ForkPhase.SWITCHING
        return [SwitchBranch(f.ancestor, f.branch, f.peer)]

    def switch_done(self, reply: ChainReply) -> list[Action]:
        f = self._fork
        if f is None or f.phase is not ForkPhase.SWITCHING:
            return []
        if not reply.ok:
            return self._fork_failed(reply.reason)
        self._fork = None
        self.sched.on_committed(reply.head)
        return self._commit_ready()

    def _fork_failed(self, reason: str) -> list[Action]:
        f = self._fork
        assert f is not None
        self._fork = None
        self.sched.on_invalid(f.peer, f.nxt)
        return [
            Penalise(f.peer, Penalty.BAD_RANGE, f"fork switch failed: {reason}"),
            warning("fork switch failed", peer=f.peer, reason=reason),
            *self._commit_ready(),
        ]
