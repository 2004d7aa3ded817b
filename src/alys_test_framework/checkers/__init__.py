"""Checkers: judge a cluster test's recorded history after the fact (Jepsen's model).

Each checker is a pure function ``check_*(history, ...) -> list[Violation]``; a violation names
the rule id of docs/CHAIN_RULES.md, the node, the height and the block. ``run_checkers`` runs
them all with one set of bounds, which is what every cluster test calls after its own checks.

Layer rule: never imports ``alys_node`` or ``alys_actors``; blocks are judged by
``oracles.chain`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..oracles.chain import ChainOracle, Violation
from .chain_valid import check_chains_valid
from .checkpoints import check_checkpoints
from .convergence import check_convergence, convergence_time, heal_time
from .durability import check_durability
from .fork_choice import check_fork_choice
from .gossip import NodeGossip, check_gossip, gossip_stats
from .history import History, HistoryWriter, NodeState, read_history
from .peers import check_bans_hold, check_peer_limit


@dataclass(frozen=True)
class CheckerBounds:
    """What the scenario promises; ``None`` switches a bound-dependent check off explicitly."""

    convergence_s: float | None = 30.0
    max_peers: int | Mapping[str, int] | None = 25
    gossip_latency_s: float | None = None
    gossip_nodes: list[str] | None = None  # nodes expected to receive every block
    skip: frozenset[str] = field(default_factory=frozenset)  # checker names not applicable


CHECKERS = ("chain", "durability", "checkpoints", "fork_choice", "convergence", "gossip",
            "peer_limit", "bans")  # fmt: skip


def run_checkers(
    history: History, oracle: ChainOracle, bounds: CheckerBounds | None = None
) -> dict[str, list[Violation]]:
    """Every checker's violations, keyed by checker name (empty lists = passed)."""
    b = bounds or CheckerBounds()
    out: dict[str, list[Violation]] = {}
    run = {
        "chain": lambda: check_chains_valid(history, oracle),
        "durability": lambda: check_durability(history),
        "checkpoints": lambda: check_checkpoints(history, oracle),
        "fork_choice": lambda: check_fork_choice(history),
        "convergence": lambda: (
            check_convergence(history, b.convergence_s) if b.convergence_s is not None else []
        ),
        "gossip": lambda: check_gossip(history, b.gossip_latency_s, b.gossip_nodes),
        "peer_limit": lambda: (
            check_peer_limit(history, b.max_peers) if b.max_peers is not None else []
        ),
        "bans": lambda: check_bans_hold(history),
    }
    for name in CHECKERS:
        if name not in b.skip:
            out[name] = run[name]()
    return out


def violations(results: Mapping[str, list[Violation]]) -> list[Violation]:
    return [v for vs in results.values() for v in vs]


__all__ = [
    "CHECKERS",
    "CheckerBounds",
    "History",
    "HistoryWriter",
    "NodeGossip",
    "NodeState",
    "check_bans_hold",
    "check_chains_valid",
    "check_checkpoints",
    "check_convergence",
    "check_durability",
    "check_fork_choice",
    "check_gossip",
    "check_peer_limit",
    "convergence_time",
    "gossip_stats",
    "heal_time",
    "read_history",
    "run_checkers",
    "violations",
]
