"""A chaos run against bugs nobody planted: ``tools/mutants/run.py --chaos`` applies a mutant of
the catalogue to a copy of the tree and runs ``alys-test chaos`` on it; the run must fail with
a cluster checker naming its rule — never only by a timeout or a fault not recovered.

- fc-fork-is-malice (fork choice: a competing branch at head + 1 is taken for an invalid
  block): a partition isolates one of the two producers, both sides extend their own branch,
  and after the heal the sides never agree — the convergence checker's S5.
- store-no-commit (store: the transaction is never committed): a SIGKILL during production
  loses the acknowledged blocks — the durability checker's D1/D2.
- store-head-before-commit (store: head moved before the COMMIT): a failed write wedges the
  node — S4 from the stalled recovery.

Short schedules of the events that exercise each bug (the done-when run is ``--chaos`` with
its default ``--duration 120 --seed 1``; see README)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "mutants"))

from catalogue import MUTANTS  # noqa: E402
from run import run_one  # noqa: E402

BY_ID = {m.id: m for m in MUTANTS}


def _chaos(mutant: str, events: str) -> tuple[str, str]:
    args = ["--duration", "16", "--seed", "1", "--events", events]
    o = run_one(BY_ID[mutant], "chaos", "development", 400.0, False, [], args)
    return o.status, o.detail


@pytest.mark.slow
def test_fork_choice_mutant_fails_naming_convergence_s5() -> None:
    status, detail = _chaos("fc-fork-is-malice", "NetworkPartition,ProcessCrash")
    assert status == "killed", detail
    assert "convergence/S5" in detail or "fork_choice/F" in detail, detail


@pytest.mark.slow
def test_store_mutant_fails_naming_durability_rule() -> None:
    status, detail = _chaos("store-no-commit", "ProcessCrash,NetworkPartition")
    assert status == "killed", detail
    assert "durability/D1" in detail or "durability/D2" in detail, detail


@pytest.mark.slow
def test_failure_atomicity_mutant_fails_naming_liveness_s4() -> None:
    """store-head-before-commit: the store's head moves before the COMMIT, so a failed write
    (EIO from the FUSE datadir, ENOSPC on the producer's tmpfs) wedges the node: its head
    never rises again although its peers are ahead — S4, judged as the event's recovery."""
    status, detail = _chaos("store-head-before-commit", "DiskSpaceExhaustion,DiskFailure")
    assert status == "killed", detail
    assert "liveness/S4" in detail, detail


@pytest.mark.slow
def test_unmutated_copy_passes_the_same_schedule() -> None:
    """The baseline: the same short schedule on the unmutated copy passes (a red baseline
    would prove nothing about the mutants)."""
    args = ["--duration", "16", "--seed", "1", "--events", "NetworkPartition,ProcessCrash"]
    o = run_one(None, "chaos", "development", 400.0, False, [], args)
    assert o.status == "passed", o.detail
