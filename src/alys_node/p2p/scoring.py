"""Peer reputation and bans (sans-I/O: callers pass ``now``).

Bans are keyed by the peer's advertised address when known (host:listen_port), otherwise by the
socket address, and expire so a fixed peer can come back.
"""

from __future__ import annotations

from dataclasses import dataclass

BAN_THRESHOLD = -100


@dataclass
class Ban:
    addr: str
    reason: str
    until: float


class Reputation:
    def __init__(self, ban_seconds: float = 300.0) -> None:
        self.ban_seconds = ban_seconds
        self.scores: dict[str, int] = {}
        self.bans: dict[str, Ban] = {}
        self.ban_count = 0

    def penalise(self, key: str, delta: int, reason: str, now: float) -> Ban | None:
        """Apply ``delta``; returns the new Ban when the peer crossed the threshold."""
        s = self.scores.get(key, 0) + delta
        self.scores[key] = s
        if s <= BAN_THRESHOLD and key not in self.bans:
            return self.ban(key, reason, now)
        return None

    def reward(self, key: str, delta: int = 1) -> None:
        self.scores[key] = min(100, self.scores.get(key, 0) + delta)

    def ban(self, key: str, reason: str, now: float) -> Ban:
        b = Ban(key, reason, now + self.ban_seconds)
        self.bans[key] = b
        self.ban_count += 1
        return b

    def is_banned(self, key: str, now: float) -> bool:
        b = self.bans.get(key)
        if b is None:
            return False
        if b.until <= now:
            del self.bans[key]
            self.scores[key] = 0
            return False
        return True

    def active(self, now: float) -> list[Ban]:
        return [b for k, b in list(self.bans.items()) if self.is_banned(k, now)]

    def score(self, key: str) -> int:
        return self.scores.get(key, 0)
