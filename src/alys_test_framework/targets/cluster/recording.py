"""Recording and judging one cluster test: its history file, the checkers, their verdicts.

Why here and not in each test: every cluster test gets the same treatment (Jepsen's model):
the HistoryRecorder writes what every node was seen to do, and after the scenario's own checks
the checkers of ``alys_test_framework.checkers`` judge the whole history. A test declares only
what its scenario promises (``CheckerBounds``: it ends partitioned, exceeds a peer limit,
runs a Byzantine peer...); the default is every checker on with the configured convergence
bound.

Rules:
1. History of test ``T`` of harness ``H``: ``<report dir>/history/H.T.jsonl``; a second cluster
   in the same test adds its cluster name (``H.T.<cluster>.jsonl``).
2. Every violation becomes ``checker <name>: <rule id> <node> height <h> block <hash>: ...``
   on the outcome; the history path and per-checker counts go into the test's metrics.
3. A test that ended unsupported, or was cancelled, is not judged (nothing was promised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...checkers import CheckerBounds, History, run_checkers
from ...oracles.chain import ChainOracle, OracleSpec


@dataclass
class Recording:
    """Where a fixture's cluster tests write their histories and the default bounds."""

    directory: Path
    harness: str
    convergence_s: float | None = 30.0
    test: str | None = None  # the running test, set by the harness kit
    poll_s: float = (
        0.02  # the recorder's head poll (a 0.1 s poll did not make a loaded sync faster)
    )
    written: set[Path] = field(default_factory=set)

    @staticmethod
    def for_workdir(workdir: Path, harness: str, convergence_s: float | None) -> Recording:
        """The framework's workdir is ``<report dir>/work/<phase>``: histories go beside."""
        wd = Path(workdir)
        base = wd.parent.parent if wd.parent.name == "work" else wd
        return Recording(base / "history", harness, convergence_s)

    def path(self, cluster: str) -> Path:
        stem = f"{self.harness}.{self.test or cluster}"
        p = self.directory / f"{stem}.jsonl"
        if p in self.written:
            p = self.directory / f"{stem}.{cluster}.jsonl"
        self.written.add(p)
        self.directory.mkdir(parents=True, exist_ok=True)
        return p

    def bounds(self, declared: CheckerBounds | None) -> CheckerBounds:
        return declared if declared is not None else CheckerBounds(convergence_s=self.convergence_s)


SHOWN_PER_RULE = 3  # violations spelled out per (checker, rule, node); the rest are counted


def judge(
    history: History, path: Path | None, spec_file: Path | None, bounds: CheckerBounds, out: Any
) -> dict[str, int]:
    """Run the checkers on the recorded history; each violation fails ``out`` by rule id."""
    skip = set(bounds.skip)
    if spec_file is None or not spec_file.exists():
        skip |= {"chain", "checkpoints"}  # no chain spec: no node ever started
        oracle: Any = None
    else:
        oracle = ChainOracle(OracleSpec.load(spec_file))
    b = CheckerBounds(
        convergence_s=bounds.convergence_s, max_peers=bounds.max_peers,
        gossip_latency_s=bounds.gossip_latency_s, gossip_nodes=bounds.gossip_nodes,
        skip=frozenset(skip),
    )  # fmt: skip
    results = run_checkers(history, oracle, b)
    for name, vs in results.items():
        shown: dict[tuple[str, str | None], int] = {}
        for v in vs:  # a few of each rule per node, then how many more: one bad chain can
            key = (v.rule, v.node)  # break a rule at every height
            shown[key] = shown.get(key, 0) + 1
            if shown[key] <= SHOWN_PER_RULE:
                out.fail(f"checker {name}", str(v))
        for (rule, node), n in shown.items():
            if n > SHOWN_PER_RULE:
                out.fail(f"checker {name}",
                         f"[{rule}] {node or 'cluster'}: {n - SHOWN_PER_RULE} more like these")  # fmt: skip
    counts = {name: len(vs) for name, vs in results.items()}
    out.record(history=str(path), checkers=counts, checkers_skipped=sorted(skip))
    return counts
