"""The Byzantine catalogue against a real reference node: every case is rejected as its rule
says (bad block not imported; sender banned, or only penalised where P5 says so), and afterwards
the victim's whole chain (the valid blocks it took from the attackers included) is valid per
the oracle. The same cases
against a node with the accept-bad-signatures seeded bug fail naming B1."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from alys_test_framework.oracles.chain import ChainOracle, OBlock, OracleSpec
from alys_test_framework.targets.cluster import NodeCluster
from alys_test_framework.targets.cluster.byzantine_catalogue import (
    VERIFY_BATCH,
    Forge,
    catalogue,
    keys_from_files,
    run_case,
)

COMMAND = ["{python}", "-m", "alys_node"]


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("byz-spec")
    subprocess.run(
        [sys.executable, "-m", "alys_node", "init-spec", "--authorities", "2", "--out", str(out),
         "--checkpoint-interval", "50", "--slot-ms", "1000", "--seed", "byzantine-test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out


def test_catalogue_covers_every_path_and_rule() -> None:
    cases = catalogue(2)
    paths = Counter(c.path for c in cases)
    assert set(paths) == {
        "gossip",
        "range",
        "frame",
        "handshake",
        "withhold",
        "flap",
        "equivocation",
        "gap",
    }
    ranges = {(c.size, c.position) for c in cases if c.path == "range" and c.spoil}
    assert {(1, "first"), (5, "middle"), (VERIFY_BATCH + 16, "last")} <= ranges
    assert {"B1", "B2", "B3", "B4", "B5", "B6", "C3", "C4", "E1", "W1", "W2", "W3", "W4"} <= {
        c.rule for c in cases
    }
    assert len({c.id for c in cases}) == len(cases)


def _play(
    spec_dir: Path, tmp_path: Path, victim_args: list[str], select, sync_after: bool = True
) -> list:  # type: ignore[no-untyped-def]
    spec = OracleSpec.load(spec_dir / "chain-spec.json")
    forge = Forge(spec, keys_from_files([str(spec_dir / f"authority-{i}.key") for i in (0, 1)]))
    sp = ["--chain-spec", str(spec_dir / "chain-spec.json")]
    results = []

    async def main() -> None:
        async with NodeCluster(COMMAND, workdir=tmp_path) as c:
            victim = await c.add_node(
                sp + ["--verify-workers", "0", "--stall-timeout", "1"] + victim_args
            )
            for case in select(catalogue(2)):  # with both keys every case builds its own branch
                res = await run_case(
                    case, spec=spec, victim_p2p=("127.0.0.1", victim.p2p_port),
                    victim_rpc=victim.call, honest=[], forge=forge, timeout_s=15,
                )  # fmt: skip
                results.append(res)
            top = int((await victim.call("chain_head"))["height"])
            judged = victim
            if sync_after:  # honest sync still completes: a fresh node syncs all the victim kept
                judged = await c.add_node(sp + ["--verify-workers", "0"])
                await c.connect(1, 0)
                await c.wait_heads_in_sync(60, min_height=top)
            chain = [OBlock.from_json(await judged.call("chain_getBlockByHeight", h))
                     for h in range(top + 1)]  # fmt: skip
            results.append(ChainOracle(spec).judge_chain(chain))  # every block it kept is valid

    asyncio.run(main())
    return results


def _suite_subset(cases):  # type: ignore[no-untyped-def]
    """Every path and rule, ranges of 1 (first), 5 (middle) and > one batch (first, middle,
    last): about half the catalogue, ~30 s. The whole catalogue is ~55 s on the same victim."""
    big = VERIFY_BATCH + 16
    keep = [c for c in cases if c.path != "range" or not c.spoil
            or (c.size, c.position) in ((1, "first"), (5, "middle"), (big, "first"),
                                         (big, "middle"), (big, "last"))]  # fmt: skip
    return sorted(keep, key=lambda c: c.path == "equivocation")


@pytest.mark.slow
def test_every_case_is_rejected_by_the_reference_node(spec_dir: Path, tmp_path: Path) -> None:
    *cases, chain_violations = _play(spec_dir, tmp_path, [], _suite_subset)
    failed = [
        (r.case.id, r.banned, r.score, [str(v) for v in r.violations])
        for r in cases
        if r.violations
    ]
    assert not failed, failed
    assert chain_violations == []
    assert sum(r.banned for r in cases) >= 0.7 * len(cases)


def test_seeded_bug_accepting_bad_signatures_fails_b1(spec_dir: Path, tmp_path: Path) -> None:
    def pick(cs):  # type: ignore[no-untyped-def]
        return [
            c
            for c in cs
            if c.id in ("B1-outsider/gossip", f"B1-outsider/range-{VERIFY_BATCH + 16}-middle")
        ]

    *cases, chain_violations = _play(
        spec_dir, tmp_path, ["--seeded-bug", "accept-bad-signatures"], pick, sync_after=False
    )
    msgs = [str(v) for r in cases for v in r.violations]
    assert any(m.startswith("[B1]") for m in msgs), msgs
    assert all(r.violations for r in cases), [r.to_json() for r in cases]
    assert {v.rule for v in chain_violations} == {"B1"}  # the oracle finds them in its chain
