"""What the sync machine asks its adapter to do, and the chain's answers it is fed back.

Actions marked "answer: X" expect the adapter to call the machine's method X with the result
before it feeds the machine anything else; the others are fire-and-forget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from alys_node.chain.block import Block


@dataclass(frozen=True)
class SendRange:
    """Ask ``peer`` for ``count`` blocks from ``start``. Answer: request_sent."""

    peer: str
    start: int
    count: int


@dataclass(frozen=True)
class Cancel:
    peer: str
    req_id: int


@dataclass(frozen=True)
class Penalise:
    peer: str
    penalty: int
    reason: str


@dataclass(frozen=True)
class Verify:
    """Check the range's signatures, off the loop; report with range_checked when done."""

    peer: str
    start: int
    blocks: list[Block]


@dataclass(frozen=True)
class Import:
    """Hand a verified range to the chain. Answer: import_done."""

    peer: str
    start: int
    blocks: list[Block]


@dataclass(frozen=True)
class SendProbe:
    """Ask ``peer`` for the blocks below a range that forks. Answer: probe_sent."""

    peer: str
    start: int
    count: int


@dataclass(frozen=True)
class LoadHashes:
    """Our block hashes at heights start..end inclusive. Answer: hashes_loaded."""

    start: int
    end: int


@dataclass(frozen=True)
class VerifyBranch:
    """Signatures of the probed part of a branch. Answer: branch_verified."""

    blocks: list[Block]


@dataclass(frozen=True)
class SwitchBranch:
    """Ask the chain to adopt the branch forking off at ``ancestor``. Answer: switch_done."""

    ancestor: int
    blocks: list[Block]
    peer: str


@dataclass(frozen=True)
class WarmVerifier:
    """A sync is starting: bring the verification workers up now."""


@dataclass(frozen=True)
class Log:
    level: int
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


Action = (
    SendRange
    | Cancel
    | Penalise
    | Verify
    | Import
    | SendProbe
    | LoadHashes
    | VerifyBranch
    | SwitchBranch
    | WarmVerifier
    | Log
)


@dataclass(frozen=True)
class ChainReply:
    """The chain's answer to Import or SwitchBranch."""

    ok: bool
    head: int
    reason: str = ""
    fork: bool = False


def debug(message: str, **fields: Any) -> Log:
    return Log(logging.DEBUG, message, fields)


def info(message: str, **fields: Any) -> Log:
    return Log(logging.INFO, message, fields)


def warning(message: str, **fields: Any) -> Log:
    return Log(logging.WARNING, message, fields)
