"""Judging a real execution client: the Lighthouse phase against @ethereumjs/client 0.10.5.

Every harness test must pass except the client's known deviations, each listed with its spec
quote in tests/data/lighthouse/interop/ethereumjs-0.10.5.yaml: a listed deviation that passes
(the client got fixed, or the harness stopped seeing it) and a failure not listed both fail
this test. The framework's block-hash oracle is then cross-checked against the client's own
blocks across all three forks.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alys_test_framework.config import TestConfig
from alys_test_framework.framework import MigrationTestFramework
from alys_test_framework.harness.lighthouse import LighthouseCompatHarness
from alys_test_framework.oracles.engine.blockhash import block_object_hash
from alys_test_framework.oracles.engine.forks import schedule_for
from alys_test_framework.phases import MigrationPhase
from alys_test_framework.results import PhaseStatus, TestStatus
from alys_test_framework.targets.engine.ethereumjs import (
    VERSION,
    ClientUnavailable,
    EthereumJsClient,
)

# npm install on a cold cache plus the phase: minutes, not the suite-wide 300 s
pytestmark = [pytest.mark.interop, pytest.mark.timeout(900)]

KNOWN = Path(__file__).parents[1] / "data" / "lighthouse" / "interop" / f"ethereumjs-{VERSION}.yaml"


def _config(client: EthereumJsClient | None = None) -> TestConfig:
    cfg = TestConfig.development()
    if client is None:
        return cfg
    lh = cfg.lighthouse.model_copy(
        update={"engine_url": client.engine_url, "jwt_secret_file": client.jwt_secret_file}
    )
    return cfg.model_copy(update={"lighthouse": lh})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EthereumJsClient]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to install @ethereumjs/client from npm")
    lh = _config().lighthouse
    ejs = EthereumJsClient(
        tmp_path_factory.mktemp("ethereumjs"), schedule_for(lh.capella_block, lh.deneb_block)
    )
    try:
        ejs.start()
    except ClientUnavailable as exc:
        pytest.fail(f"@ethereumjs/client {VERSION} could not be started: {exc}")
    try:
        yield ejs
    finally:
        ejs.stop()


def _known() -> dict[str, set[str]]:
    data = yaml.safe_load(KNOWN.read_text())
    out: dict[str, set[str]] = {}
    for d in data["deviations"]:
        assert d["quote"].strip(), f"{d['property']}: a known deviation needs its spec quote"
        out.setdefault(d["test"], set()).add(d["property"])
    return out


def _matrix(results: list[Any]) -> dict[str, set[str]]:
    """test -> the cited properties it violated (empty when it passed)."""
    out: dict[str, set[str]] = {}
    for r in results:
        assert r.status in (TestStatus.PASSED, TestStatus.FAILED), (r.name, r.status, r.message)
        out[r.name] = set(r.metrics.get("violated", [])) if r.status is TestStatus.FAILED else set()
    return out


def test_lighthouse_phase_against_ethereumjs(client: EthereumJsClient, tmp_path: Path) -> None:
    with MigrationTestFramework(_config(client), report_dir=tmp_path) as fw:
        phase = fw.run_phase_validation(MigrationPhase.LIGHTHOUSE_MIGRATION)
    names = [name for name, _, _ in LighthouseCompatHarness.test_methods()]
    assert [r.name for r in phase.results] == names
    got, known = _matrix(phase.results), _known()
    new = {t: sorted(v - known.get(t, set())) for t, v in got.items() if v - known.get(t, set())}
    fixed = {t: sorted(v - got.get(t, set())) for t, v in known.items() if v - got.get(t, set())}
    assert not new, f"failures not in {KNOWN.name} (a harness or client regression): {new}"
    assert not fixed, f"known deviations that no longer fail (update {KNOWN.name}): {fixed}"
    # the phase is judged as a user would see it: the client's deviations fail it
    assert phase.status is PhaseStatus.FAILED
    production = next(r for r in phase.results if r.name == "test_block_production")
    assert production.metrics["first_block_of_fork"] == {"bellatrix": 1, "capella": 10, "deneb": 20}
    _cross_check_block_hashes(client, production.metrics["last_block_hash"])


def _cross_check_block_hashes(client: EthereumJsClient, tip: str) -> None:
    """Walk the produced chain back to genesis on the client: every header the client serves
    hashes, by the framework's RLP + keccak oracle, to the hash the client gives it."""
    forks: set[str] = set()
    h, n = tip, None
    while True:
        block = client.rpc("eth_getBlockByHash", [h, False])
        assert block is not None, f"client does not know {h}"
        assert block_object_hash(block) == block["hash"] == h, block
        number = int(block["number"], 16)
        assert n is None or number == n - 1
        forks.add(
            "deneb"
            if block.get("parentBeaconBlockRoot")
            else "capella"
            if block.get("withdrawalsRoot")
            else "bellatrix"
        )
        if number == 0:
            assert h == client.genesis_hash()
            break
        h, n = block["parentHash"], number
    assert forks == {"bellatrix", "capella", "deneb"}, forks
