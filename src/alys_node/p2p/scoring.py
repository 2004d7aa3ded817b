"""Peer reputation and bans (sans-I/O: callers pass ``now``).

Rules:
- A score is kept per key (the caller chooses what a key names: an IP, a node id); a key whose
  score reaches BAN_THRESHOLD is banned until ``now + ban_seconds``, then forgiven (score 0).
- Both tables are bounded, so a peer that offends from ever new identities cannot grow them
  without limit (issue #14, D5: 6,108 entries): when full, the ban closest to expiry and the
  least recently touched score make room.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

BAN_THRESHOLD = -100
MAX_BANS = 1024
MAX_SCORES = 4096


@dataclass
class Ban:
    addr: str  # what admin_bans shows: the peer's address (or IP)
    reason: str
    until: float
    key: str = ""  # the reputation key the ban belongs to


class Reputation:
    def __init__(
        self, ban_seconds: float = 300.0, max_bans: int = MAX_BANS, max_scores: int = MAX_SCORES
    ) -> None:
        self.ban_seconds = ban_seconds
        self.max_bans = max_bans
        self.max_scores = max_scores
        self.scores: OrderedDict[str, int] = OrderedDict()
        self.bans: dict[str, Ban] = {}
        self.ban_count = 0

    def penalise(
        self, key: str, delta: int, reason: str, now: float, addr: str | None = None
    ) -> Ban | None:
        """Apply ``delta``; returns the new Ban when the key crossed the threshold."""
        s = self.scores.pop(key, 0) + delta
        self._set_score(key, s)
        if s <= BAN_THRESHOLD and not self.is_banned(key, now):
            return self.ban(key, reason, now, addr)
        return None

    def _set_score(self, key: str, s: int) -> None:
        self.scores[key] = s
        self.scores.move_to_end(key)
        while len(self.scores) > self.max_scores:
            self.scores.popitem(last=False)

    def reward(self, key: str, delta: int = 1) -> None:
        self._set_score(key, min(100, self.scores.pop(key, 0) + delta))

    def ban(self, key: str, reason: str, now: float, addr: str | None = None) -> Ban:
        b = Ban(addr or key, reason, now + self.ban_seconds, key)
        self.bans.pop(key, None)
        if len(self.bans) >= self.max_bans:
            self._expire(now)
        while len(self.bans) >= self.max_bans:
            del self.bans[min(self.bans, key=lambda k: self.bans[k].until)]
        self.bans[key] = b
        self.ban_count += 1
        return b

    def _expire(self, now: float) -> None:
        for k in [k for k, b in self.bans.items() if b.until <= now]:
            del self.bans[k]
            self.scores.pop(k, None)

    def is_banned(self, key: str, now: float) -> bool:
        b = self.bans.get(key)
        if b is None:
            return False
        if b.until <= now:
            del self.bans[key]
            self.scores.pop(key, None)
            return False
        return True

    def active(self, now: float) -> list[Ban]:
        self._expire(now)
        return list(self.bans.values())

    def score(self, key: str) -> int:
        return self.scores.get(key, 0)
