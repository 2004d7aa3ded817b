"""Hand-built histories: the events a recorder would write, without any node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alys_test_framework.checkers import History
from alys_test_framework.oracles.chain import OBlock
from alys_test_framework.oracles.chain.encoding import EMPTY_ROOT
from alys_test_framework.targets.cluster.history_recorder import data_id

from ..oracles.oracle_kit import chain, oracle, sign  # noqa: F401  (re-exported for tests)


def hx(b: OBlock) -> str:
    return "0x" + b.hash.hex()


class HB:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.t = 1000.0
        self._data: set[str] = set()

    def ev(self, kind: str, node: str | None = None, **d: Any) -> None:
        self.t += 0.01
        self.events.append({"t": self.t, "kind": kind, "node": node, **d})

    def hold(self, node: str, blocks: Sequence[OBlock], delay: float = 0.0) -> None:
        """The node's chain now shows ``blocks`` (then its head is the last one)."""
        for b in blocks:
            did = data_id(b.to_json())  # the recorder's content key
            if did not in self._data:
                self._data.add(did)
                self.ev("block_data", None, hash=hx(b), id=did, block=b.to_json())
            self.ev("block", node, height=b.height, hash=hx(b), parent="0x" + b.parent_hash.hex(),
                    producer=b.producer, received_at=1000.0 + b.height * 0.1 + delay,
                    data=did)  # fmt: skip
        self.head(node, blocks[-1])

    def head(self, node: str, b: OBlock) -> None:
        self.ev("head", node, height=b.height, hash=hx(b))

    def reorg(self, node: str, ancestor: int, old: OBlock, new_branch: Sequence[OBlock]) -> None:
        new = new_branch[-1]
        self.ev("reorg", node, ancestor=ancestor, old_height=old.height, old_hash=hx(old),
                new_height=new.height, new_hash=hx(new), dropped=[])  # fmt: skip
        self.hold(node, new_branch)

    def ack(self, node: str, b: OBlock) -> None:
        self.ev("op", node, op="produce", ok=True, height=b.height, hash=hx(b), n=1)

    def process(self, node: str, action: str) -> None:
        self.ev("process", node, action=action)

    def fault(self, action: str) -> None:
        self.ev("fault", None, action=action, fault="partition")

    def history(self) -> History:
        return History(list(self.events))


def fork(base: Sequence[OBlock], at: int, n: int, shift: int = 1) -> list[OBlock]:
    """A valid competing branch of ``n`` blocks on ``base[at]``: same producers' slots shifted
    by three slots (the owner rotation repeats), re-signed by the right authorities."""
    out: list[OBlock] = []
    parent = base[at]
    for _ in range(n):
        ts = parent.timestamp + 3000 * shift  # 3 authorities: +3 slots keeps the owner
        slot_owner = ((ts - 1_700_000_000_000) // 1000) % 3
        nb = OBlock(parent.height + 1, parent.hash, ts, EMPTY_ROOT, slot_owner, b"")
        nb = sign(nb, slot_owner)
        out.append(nb)
        parent = nb
    return out
