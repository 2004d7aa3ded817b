"""An actor of your own on the runtime under test, driven through the runtime protocol."""

from __future__ import annotations

from typing import Any

from alys_test_framework.targets.actor_runtime import Behaviour


class Counter(Behaviour):
    def __init__(self) -> None:
        self.total = 0

    async def receive(self, msg: Any) -> int:
        self.total += int(msg)
        return self.total


def test_an_actor_adds_what_it_is_told(actor_system: Any) -> None:
    ref = actor_system.run(actor_system.system.spawn(Counter, name="counter"))
    for n in (1, 2, 3):
        actor_system.run(ref.tell(n))
    assert actor_system.run(ref.ask(0, timeout_s=5)) == 6
