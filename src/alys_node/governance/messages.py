"""What the GovernanceActor is asked, and how it answers.

Rejections are answers, not failures: a Reply carries them, because an exception would count as
an actor crash and trigger a restart for every bad request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ledger import Approval
from .proposal import GovernanceError


@dataclass(frozen=True)
class Propose:
    id: str
    nonce: int
    kind: str = "generic"
    payload: bytes = b""
    expiry: int | None = None


@dataclass(frozen=True)
class Sign:
    proposal_id: str
    member: bytes
    signature: bytes


@dataclass(frozen=True)
class Status:
    proposal_id: str | None = None


@dataclass(frozen=True)
class Execute:
    proposal_id: str | None = None
    approval: Approval | None = None


@dataclass(frozen=True)
class Reply:
    ok: bool
    value: Any = None
    reason: str = ""
    detail: str = ""

    def unwrap(self) -> Any:
        if not self.ok:
            raise GovernanceError(self.reason, self.detail)
        return self.value
