"""Recording: where a cluster test's history goes, and how a checker's violation becomes the
test's failure (rule id, node, height, block) with per-checker counts in the metrics."""

from __future__ import annotations

from pathlib import Path

from alys_test_framework.checkers import CheckerBounds
from alys_test_framework.harness.base import Outcome
from alys_test_framework.targets.cluster.recording import Recording, judge

from ..checkers.history_kit import HB, chain


def test_history_goes_to_the_report_dir_named_by_harness_and_test(tmp_path: Path) -> None:
    rec = Recording.for_workdir(tmp_path / "work" / "sync-improvement", "sync", 30.0)
    assert rec.directory == tmp_path / "history"
    rec.test = "test_full_sync"
    assert rec.path("full-sync-400") == tmp_path / "history" / "sync.test_full_sync.jsonl"
    # a second cluster in the same test keeps the first one's file
    second = rec.path("full-sync-800")
    assert second.name == "sync.test_full_sync.full-sync-800.jsonl"
    assert Recording.for_workdir(tmp_path, "network", None).directory == tmp_path / "history"


def test_default_bounds_are_every_checker_with_the_configured_convergence() -> None:
    b = Recording(Path("."), "network", 12.0).bounds(None)
    assert b.convergence_s == 12.0 and not b.skip
    declared = CheckerBounds(max_peers={"node-0": 2})
    assert Recording(Path("."), "network", 12.0).bounds(declared) is declared


def test_a_lost_acknowledged_block_fails_the_test_naming_d1(tmp_path: Path) -> None:
    hb = HB()
    blocks = list(chain(12))
    hb.hold("node-0", blocks[:11])
    hb.ack("node-0", blocks[10])
    hb.process("node-0", "kill")
    hb.process("node-0", "restart")
    hb.hold("node-0", blocks[:1])  # came back with genesis only
    out = Outcome()
    counts = judge(hb.history(), tmp_path / "h.jsonl", None, CheckerBounds(), out)
    assert counts["durability"] >= 2 and "chain" not in counts  # no spec: chain rules skipped
    msgs = [v for v in out.violations if v.startswith("checker durability: [D1] node-0 height 10")]
    assert msgs and "block 0x" in msgs[0], out.violations
    assert out.metrics["history"] == str(tmp_path / "h.jsonl")
    assert out.metrics["checkers_skipped"] == ["chain", "checkpoints"]


def test_an_honest_history_adds_no_violation(tmp_path: Path) -> None:
    hb = HB()
    blocks = list(chain(6))
    for n in ("node-0", "node-1"):
        hb.hold(n, blocks)
    out = Outcome()
    counts = judge(hb.history(), None, None, CheckerBounds(), out)
    assert out.violations == [] and set(counts.values()) == {0}
