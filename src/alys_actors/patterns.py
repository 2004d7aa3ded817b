"""Messaging patterns on top of ActorRef: broadcast, routing, request/response, pipelines.

Router keeps its choice in one overridable method (select) so a deliberately broken router for
harness tests is a three-line subclass, and every tie is broken by a seeded RNG.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from .errors import ActorError, ActorStopped, AskTimeout
from .mailbox import Priority
from .ref import ActorRef

RouterStrategy = Literal["round_robin", "least_loaded"]


class BroadcastGroup:
    """Send one message to every member; returns how many accepted it."""

    def __init__(self, refs: Iterable[ActorRef] = ()) -> None:
        self.refs: list[ActorRef] = list(refs)

    def add(self, ref: ActorRef) -> None:
        if ref not in self.refs:
            self.refs.append(ref)

    def remove(self, ref: ActorRef) -> None:
        self.refs.remove(ref)

    async def broadcast(self, msg: Any, priority: Priority = Priority.NORMAL) -> int:
        delivered = 0
        for ref in list(self.refs):
            try:
                if await ref.tell(msg, priority):
                    delivered += 1
            except ActorError:  # stopped or full: already counted as a dead letter
                pass
        return delivered


class Router:
    """Spread messages over a pool of actors (round_robin or least_loaded mailbox depth)."""

    def __init__(
        self,
        refs: Iterable[ActorRef],
        strategy: RouterStrategy = "round_robin",
        rng: random.Random | None = None,
    ) -> None:
        self.refs: list[ActorRef] = list(refs)
        if strategy not in ("round_robin", "least_loaded"):
            raise ValueError(
                f"unknown router strategy {strategy!r}; use 'round_robin' or 'least_loaded'"
            )
        if not self.refs:
            raise ValueError("a router needs at least one actor")
        self.strategy = strategy
        self.rng = rng if rng is not None else self.refs[0].system.rng
        self._next = 0

    def pick(self) -> ActorRef:
        """The actor the next message goes to (live actors only)."""
        live = [r for r in self.refs if r.is_alive]
        if not live:
            raise ActorStopped("router has no live actors left")
        return self.select(live)

    def select(self, live: Sequence[ActorRef]) -> ActorRef:
        """Choose among live actors; override to plug in another strategy."""
        if self.strategy == "round_robin":
            ref = live[self._next % len(live)]
            self._next += 1
            return ref
        depths = [r.mailbox.depth for r in live]
        low = min(depths)
        tied = [r for r, d in zip(live, depths, strict=True) if d == low]
        return tied[0] if len(tied) == 1 else self.rng.choice(tied)

    async def route(self, msg: Any, priority: Priority = Priority.NORMAL) -> ActorRef:
        ref = self.pick()
        await ref.tell(msg, priority)
        return ref

    async def ask(self, msg: Any, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        return await self.pick().ask(msg, timeout=timeout)


async def request(ref: ActorRef, msg: Any, timeout: float | None) -> Any:  # noqa: ASYNC109
    """Request/response with a deadline: the reply, or AskTimeout naming actor and message."""
    return await ref.ask(msg, timeout=timeout)


async def gather_asks(
    refs_msgs: Iterable[tuple[ActorRef, Any]],
    timeout: float | None,  # noqa: ASYNC109
    *,
    return_exceptions: bool = False,
) -> list[Any]:
    """Ask many actors concurrently; replies in input order (exceptions in place if asked)."""
    coros = [ref.ask(msg, timeout=timeout) for ref, msg in refs_msgs]
    return list(await asyncio.gather(*coros, return_exceptions=return_exceptions))


class Pipeline:
    """Each stage's reply is the next stage's message; the last reply is the result."""

    def __init__(self, stages: Iterable[ActorRef]) -> None:
        self.stages = list(stages)
        if not self.stages:
            raise ValueError("a pipeline needs at least one stage")

    async def run(self, msg: Any, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Run msg through every stage; timeout bounds the whole pipeline."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        for i, stage in enumerate(self.stages):
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise AskTimeout(
                    f"pipeline timed out after {timeout:g}s before stage {i} ({stage.label}) "
                    f"could handle {type(msg).__name__}"
                )
            msg = await stage.ask(msg, timeout=left)
        return msg
