"""An append-only journal of executed approvals, so replay protection survives a restart.

Each line is one executed approval (JSON) written and fsynced before the execution is reported.
On start the node re-executes the journal against the genesis federation: every approval is
verified again, so a corrupted or forged line cannot slip in, and a torn last line (SIGKILL in
the middle of a write) is ignored because it was never acknowledged.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from .ledger import Approval, GovernanceLedger
from .proposal import GovernanceError

log = logging.getLogger("alys_node.governance")


class GovernanceJournal:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, approval: Approval, executed_at: int) -> None:
        line = json.dumps({"approval": approval.to_json(), "executed_at": executed_at}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def replay(self, ledger: GovernanceLedger) -> int:
        """Re-execute every journaled approval; returns how many were applied."""
        if not self.path.exists():
            return 0
        applied = 0
        lines = self.path.read_bytes().split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
                ledger.execute(Approval.from_json(entry["approval"]), int(entry["executed_at"]))
                applied += 1
            except (ValueError, KeyError, TypeError, GovernanceError) as exc:
                torn = number == len(lines)  # only the unterminated last line may be torn
                log.warning(
                    "governance journal line skipped",
                    extra={"line": number, "torn": torn, "error": str(exc)[:200]},
                )
        return applied
