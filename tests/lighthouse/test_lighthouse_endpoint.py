"""Embedded execution endpoint: malformed input never crashes it, the state machine per spec,
and the harness can target it as an *external* endpoint through TestConfig."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from alys_node.engine import EmbeddedExecutionEndpoint, EngineClient, ForkSchedule, make_token
from alys_node.engine.driver import EngineDriver
from alys_node.engine.jwt_auth import write_secret
from alys_test_framework.config import TestConfig
from alys_test_framework.harness.base import HarnessContext
from alys_test_framework.harness.lighthouse import LighthouseCompatHarness
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


def test_lighthouse_external_endpoint_from_config(tmp_path: Path) -> None:
    """engine_url + jwt_secret_file: the harness talks to that endpoint, not an embedded one."""

    async def run():
        secret = write_secret(tmp_path / "jwt.hex")
        async with EmbeddedExecutionEndpoint(secret) as ep:
            cfg = TestConfig.development()
            lh = cfg.lighthouse.model_copy(
                update={"engine_url": ep.url, "jwt_secret_file": tmp_path / "jwt.hex"}
            )
            ctx = HarnessContext(cfg.model_copy(update={"lighthouse": lh}), workdir=tmp_path)
            h = LighthouseCompatHarness(ctx)
            assert h.target.external
            results = await h.run_tests(only=["test_jwt_authentication", "test_block_production"])
            return results, ep.requests

    results, served = asyncio.run(run())
    by_name = {r.name: r for r in results}
    assert by_name["test_jwt_authentication"].status is TestStatus.PASSED
    assert served >= 8  # the external endpoint really served the auth cases
    # without the external chain's genesis hash block production is skipped, never passed
    assert by_name["test_block_production"].status is TestStatus.SKIPPED
