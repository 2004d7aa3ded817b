"""Embedded execution endpoint: malformed input never crashes it, the state machine per spec,
and the harness can target it as an *external* endpoint through TestConfig."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from alys_node.engine import EmbeddedExecutionEndpoint, EngineClient, ForkSchedule, make_token
from alys_node.engine.driver import EngineDriver
from alys_node.engine.jwt_auth import write_secret
from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.lighthouse import LighthouseCompatHarness
from alys_test_framework.oracles.engine.blockhash import block_object_hash
from alys_test_framework.oracles.engine.forks import schedule_for
from alys_test_framework.results import TestStatus

SECRET = bytes(range(32))


async def _raw(url: str, data: bytes, token: str | None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as s, s.post(url, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def test_lighthouse_endpoint_malformed_input() -> None:
    async def run():
        async with EmbeddedExecutionEndpoint(SECRET) as ep:
            tok = make_token(SECRET)
            out = {
                "not json": await _raw(ep.url, b"{nope", tok),
                "not an object": await _raw(ep.url, b"42", tok),
                "no method": await _raw(ep.url, b'{"jsonrpc":"2.0","id":1}', tok),
                "unknown": await _raw(ep.url, b'{"jsonrpc":"2.0","id":1,"method":"x"}', tok),
                "params object": await _raw(
                    ep.url,
                    b'{"jsonrpc":"2.0","id":2,"method":"engine_getPayloadV1","params":{}}',
                    tok,
                ),
                "binary": await _raw(ep.url, bytes(range(256)), tok),
                "empty batch": await _raw(ep.url, b"[]", tok),
                "no token": await _raw(ep.url, b"{}", None),
            }
            # still serving afterwards
            client = EngineClient(ep.url, SECRET)
            caps = await client.call("engine_exchangeCapabilities", [[]])
            await client.close()
            return out, caps

    out, caps = asyncio.run(run())
    assert out.pop("no token")[0] == 401
    codes = {k: (status, body["error"]["code"]) for k, (status, body) in out.items()}
    assert codes["not json"] == (200, -32700)
    assert codes["binary"] == (200, -32700)
    assert codes["not an object"] == (200, -32600)
    assert codes["no method"] == (200, -32600)
    assert codes["empty batch"] == (200, -32600)
    assert codes["unknown"] == (200, -32601)
    assert codes["params object"] == (200, -32602)
    assert "engine_newPayloadV3" in caps and "engine_forkchoiceUpdatedV4" not in caps


def test_lighthouse_endpoint_syncing_head_and_invalid_chain() -> None:
    async def run():
        sched = ForkSchedule(genesis_time=100, capella_time=100, deneb_time=10**9)
        async with EmbeddedExecutionEndpoint(SECRET, sched) as ep:
            client = EngineClient(ep.url, SECRET)
            driver = EngineDriver(client, sched)
            genesis = "0x" + ep.state.genesis_hash.hex()
            unknown = await driver.forkchoice("0x" + "42" * 32, version=2)
            a = await driver.produce(genesis, 112)
            # child of a block declared INVALID is INVALID with latestValidHash = last valid
            ep.state.blocks[bytes.fromhex(a.block_hash[2:])].status = "INVALID"
            fcu_invalid = await driver.forkchoice(a.block_hash, version=2)
            await client.close()
            return unknown, fcu_invalid, genesis

    unknown, fcu_invalid, genesis = asyncio.run(run())
    assert unknown["payloadStatus"]["status"] == "SYNCING" and unknown["payloadId"] is None
    assert fcu_invalid["payloadStatus"]["status"] == "INVALID"
    assert fcu_invalid["payloadStatus"]["latestValidHash"] == genesis


class NoEthEndpoint(EmbeddedExecutionEndpoint):
    """An Engine API endpoint that serves no eth_ methods (genesis not discoverable)."""

    def dispatch(self, msg: Any) -> dict[str, Any]:
        if isinstance(msg, dict) and str(msg.get("method", "")).startswith("eth_"):
            return {
                "jsonrpc": "2.0",
                "id": msg.get("id"),
                "error": {"code": -32601, "message": "no"},
            }
        return super().dispatch(msg)


def _external(tmp_path: Path, factory: Any = EmbeddedExecutionEndpoint, **extra: Any) -> Any:
    """Run block production and the JWT test against ``factory`` configured as external."""

    async def run() -> tuple[dict[str, Any], int]:
        secret = write_secret(tmp_path / "jwt.hex")
        cfg = TestConfig.development()
        sched = schedule_for(cfg.lighthouse.capella_block, cfg.lighthouse.deneb_block)
        node_sched = ForkSchedule(sched.capella_time, sched.deneb_time, sched.genesis_time)
        async with factory(secret, node_sched) as ep:
            update = {"engine_url": ep.url, "jwt_secret_file": tmp_path / "jwt.hex"}
            if extra.get("genesis") == "from-endpoint":
                update["genesis_block_hash"] = "0x" + ep.state.genesis_hash.hex()
            elif "genesis" in extra:
                update["genesis_block_hash"] = extra["genesis"]
            lh = cfg.lighthouse.model_copy(update=update)
            ctx = HarnessContext(cfg.model_copy(update={"lighthouse": lh}), workdir=tmp_path)
            h = LighthouseCompatHarness(ctx)
            assert h.target.external
            results = await h.run_tests(only=["test_jwt_authentication", "test_block_production"])
            return {r.name: r for r in results}, ep.requests

    return asyncio.run(run())


def test_lighthouse_external_endpoint_from_config(tmp_path: Path) -> None:
    """engine_url + jwt_secret_file: the harness talks to that endpoint, finds its genesis."""
    by_name, served = _external(tmp_path)
    assert by_name["test_jwt_authentication"].status is TestStatus.PASSED
    assert served >= 8  # the external endpoint really served the auth cases
    production = by_name["test_block_production"]
    assert production.status is TestStatus.PASSED, production.message
    assert production.metrics["first_block_of_fork"] == {"bellatrix": 1, "capella": 10, "deneb": 20}


def test_lighthouse_external_genesis_needs_config_when_not_served(tmp_path: Path) -> None:
    """No eth_getBlockByNumber and no genesis_block_hash: one clear error, never a pass."""
    by_name, _ = _external(tmp_path, NoEthEndpoint)
    production = by_name["test_block_production"]
    assert production.status is TestStatus.ERROR
    assert "set lighthouse.genesis_block_hash" in production.message
    by_name, _ = _external(tmp_path, NoEthEndpoint, genesis="from-endpoint")
    assert by_name["test_block_production"].status is TestStatus.PASSED


def test_lighthouse_external_genesis_must_agree(tmp_path: Path) -> None:
    by_name, _ = _external(tmp_path, genesis="0x" + "ab" * 32)
    production = by_name["test_block_production"]
    assert production.status is TestStatus.ERROR
    assert "differs from the client's block 0" in production.message


def test_lighthouse_endpoint_v1_answers_invalid_block_hash() -> None:
    """paris.md: newPayloadV1 with a wrong blockHash is INVALID_BLOCK_HASH; V2 on: INVALID."""

    async def run() -> tuple[str, str]:
        sched = ForkSchedule(genesis_time=100, capella_time=200, deneb_time=300)
        async with EmbeddedExecutionEndpoint(SECRET, sched) as ep:
            client = EngineClient(ep.url, SECRET)
            driver = EngineDriver(client, sched)
            genesis = "0x" + ep.state.genesis_hash.hex()
            v1 = await driver.produce(genesis, 112, set_head=False)
            bad_v1 = dict(v1.payload, blockHash="0x" + "5a" * 32)
            st1 = await driver.new_payload(1, bad_v1, None)
            await driver.forkchoice(v1.block_hash)
            v2 = await driver.produce(v1.block_hash, 200, set_head=False)
            st2 = await driver.new_payload(2, dict(v2.payload, blockHash="0x" + "5a" * 32), None)
            await client.close()
            return st1["status"], st2["status"]

    assert asyncio.run(run()) == ("INVALID_BLOCK_HASH", "INVALID")


def test_lighthouse_endpoint_serves_genesis_block() -> None:
    """eth_getBlockByNumber on the Engine port (common.md): block 0 hashes to its own hash."""

    async def run() -> tuple[Any, Any, str]:
        async with EmbeddedExecutionEndpoint(SECRET) as ep:
            client = EngineClient(ep.url, SECRET)
            block = await client.call("eth_getBlockByNumber", ["0x0", False])
            bad = await client.request("eth_getBlockByNumber", ["0x01", False])
            await client.close()
            return block, bad, "0x" + ep.state.genesis_hash.hex()

    block, bad, genesis = asyncio.run(run())
    assert block["hash"] == genesis == block_object_hash(block)
    assert bad["error"]["code"] == -32602


def test_lighthouse_shared_external_endpoint_in_any_order(tmp_path: Path) -> None:
    """One long-lived endpoint for every test, run in reverse order: each test builds its own
    branch from genesis, so no test's leftovers change another's verdict."""

    async def run() -> list[Any]:
        secret = write_secret(tmp_path / "jwt.hex")
        cfg = TestConfig.development()
        sched = schedule_for(cfg.lighthouse.capella_block, cfg.lighthouse.deneb_block)
        node_sched = ForkSchedule(sched.capella_time, sched.deneb_time, sched.genesis_time)
        async with EmbeddedExecutionEndpoint(secret, node_sched) as ep:
            update = {"engine_url": ep.url, "jwt_secret_file": tmp_path / "jwt.hex"}
            lh = cfg.lighthouse.model_copy(update=update)
            h = LighthouseCompatHarness(HarnessContext(cfg.model_copy(update={"lighthouse": lh})))
            names = [n for n, _, _ in h.test_methods()]
            results = []
            for name in reversed(names):
                results += await h.run_tests(only=[name])
            return results

    results = asyncio.run(run())
    assert len(results) == 9
    bad = [(r.name, r.status, r.message) for r in results if r.status is not TestStatus.PASSED]
    assert not bad, bad
