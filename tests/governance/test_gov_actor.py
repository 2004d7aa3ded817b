"""GovernanceActor: in-process on an ActorSystem, and inside a real node over JSON-RPC."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp

from alys_actors import ActorSystem
from alys_node.chain.spec import ChainSpec, derive_key
from alys_node.crypto import bls
from alys_node.governance import (
    Federation,
    GovernanceLedger,
    ProposalKind,
    encode_set_threshold,
    rpc,
)
from alys_node.governance.actor import (
    Execute,
    GovernanceState,
    Propose,
    Sign,
    Status,
    start_governance,
)
from alys_node.governance.journal import GovernanceJournal
from alys_node.governance.messages import Reply
from alys_node.node import Node
from alys_node.rpc import RpcError
from alys_test_framework.targets.governance_target import make_signers


def test_actor_workflow_and_state_survives_restart(tmp_path) -> None:
    signers = make_signers(bls, 3, random.Random(3))
    fed = Federation.create([(s.pk, s.pop) for s in signers], 2)
    clock = [1000]

    async def go() -> None:
        async with ActorSystem("gov-test") as system:
            state = GovernanceState(
                GovernanceLedger(fed), GovernanceJournal(tmp_path / "j.jsonl"), lambda: clock[0]
            )
            ref = await start_governance(system, state)
            st = (await ref.ask(Propose("p1", 1, payload=b"x", expiry=5000), timeout=5)).unwrap()
            msg = bytes.fromhex(st["message"][2:])
            assert (
                await ref.ask(Sign("p1", signers[0].pk, bls.sign(signers[0].sk, msg)), timeout=5)
            ).ok
            bad = await ref.ask(Sign("p1", signers[1].pk, bls.sign(signers[2].sk, msg)), timeout=5)
            assert not bad.ok and bad.reason == "bad_signature"
            early = await ref.ask(Execute("p1"), timeout=5)
            assert not early.ok and early.reason == "insufficient_signatures"
            # a crash: the supervisor restarts a fresh instance
            await system.fail(ref, RuntimeError("injected crash"))
            for _ in range(200):
                if ref.is_alive and ref.stats.restarts >= 1:
                    break
                await asyncio.sleep(0.01)
            assert ref.stats.restarts >= 1
            assert (await ref.ask(Status("p1"), timeout=5)).value["signatures"] == 1  # state kept
            assert (
                await ref.ask(Sign("p1", signers[1].pk, bls.sign(signers[1].sk, msg)), timeout=5)
            ).ok
            receipt = (await ref.ask(Execute("p1"), timeout=5)).unwrap()
            assert receipt["signers"] == 2
            assert (await ref.ask(Execute("p1"), timeout=5)).reason == "replay"
            clock[0] = 6000
            late = await ref.ask(Propose("p2", 2, expiry=5500), timeout=5)
            assert late.reason == "expired"

    asyncio.run(go())
    # the journal replays into a fresh ledger: nonce 1 stays used
    ledger = GovernanceLedger(fed)
    assert GovernanceJournal(tmp_path / "j.jsonl").replay(ledger) == 1
    assert 1 in ledger.used_nonces


async def _rpc(session: aiohttp.ClientSession, port: int, method: str, params) -> dict:  # noqa: ANN001
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with session.post(f"http://127.0.0.1:{port}/", json=body) as resp:
        assert resp.status == 200
        return await resp.json()


def test_node_rpc_gov_methods_and_journal_across_restart(tmp_path) -> None:
    keys = [derive_key(b"gov-test", i) for i in range(3)]
    spec = ChainSpec("gov-test", tuple(k.public_key for k in keys))

    async def run_node(check) -> None:  # noqa: ANN001
        node = Node(datadir=tmp_path / "node", spec=spec, seed=1, verify_workers=0)
        await node.start()
        try:
            async with aiohttp.ClientSession() as session:
                await check(session, node.rpc_port)
        finally:
            await node.stop()

    async def first(session, port) -> None:  # noqa: ANN001
        st = (await _rpc(session, port, "gov_status", {}))["result"]
        assert st["federation"]["threshold"] == 3 and len(st["federation"]["members"]) == 3
        res = await _rpc(session, port, "gov_propose", {"id": "th", "kind": "set_threshold",
                                                        "payload": "0x" + encode_set_threshold(2).hex(), "nonce": 7})  # fmt: skip
        msg = bytes.fromhex(res["result"]["message"][2:])
        for k in keys:
            sig = bls.sign(k.secret_key, msg)
            r = await _rpc(
                session, port, "gov_sign", ["th", "0x" + k.public_key.hex(), "0x" + sig.hex()]
            )
            assert "result" in r, r
        r = await _rpc(session, port, "gov_execute", ["th"])
        assert r["result"]["epoch_after"] == 1, r
        again = await _rpc(session, port, "gov_execute", ["th"])
        assert again["error"]["code"] == -32010 and again["error"]["message"].startswith("replay")
        # bad input: one clear error, never a crash
        for method, params, code in [
            ("gov_propose", {"id": "x"}, -32602),
            ("gov_propose", {"id": "x", "nonce": 1, "kind": "bogus"}, -32602),
            ("gov_propose", {"id": "x", "nonce": 1, "payload": "zz"}, -32602),
            ("gov_sign", ["th", "0x00", "0x00"], -32010),
            ("gov_sign", ["nope", "0x" + keys[0].public_key.hex(), "0x" + "00" * 96], -32010),
            ("gov_execute", {"approval": {"bad": 1}}, -32602),
            ("gov_status", ["missing"], -32010),
        ]:
            r = await _rpc(session, port, method, params)
            assert r.get("error", {}).get("code") == code, (method, params, r)

    async def second(session, port) -> None:  # noqa: ANN001
        st = (await _rpc(session, port, "gov_status", []))["result"]
        assert st["federation"]["threshold"] == 2 and st["federation"]["epoch"] == 1
        assert st["executed"] == 1
        r = await _rpc(session, port, "gov_propose", {"id": "th2", "nonce": 7})
        assert r["error"]["message"].startswith("replay")

    asyncio.run(run_node(first))
    journal = (tmp_path / "node" / "governance.jsonl").read_text().splitlines()
    assert (
        len(journal) == 1
        and json.loads(journal[0])["approval"]["proposal"]["kind"] == ProposalKind.SET_THRESHOLD
    )
    asyncio.run(run_node(second))


def test_bad_federation_file_disables_governance_not_the_node(tmp_path) -> None:
    keys = [derive_key(b"gov-bad", i) for i in range(2)]
    spec = ChainSpec("gov-bad", tuple(k.public_key for k in keys))
    datadir = tmp_path / "node"
    datadir.mkdir()
    (datadir / "federation.json").write_text('{"threshold": 1, "members": [{"pubkey": "0x00"}]}')

    async def go() -> None:
        node = Node(datadir=datadir, spec=spec, seed=1, verify_workers=0)
        await node.start()
        try:
            async with aiohttp.ClientSession() as session:
                r = await _rpc(session, node.rpc_port, "gov_status", [])
                assert r["error"]["code"] == -32010
                assert r["error"]["message"].startswith(
                    "governance_unavailable: invalid_federation"
                )
                assert "result" in await _rpc(session, node.rpc_port, "chain_head", [])
        finally:
            await node.stop()

    asyncio.run(go())


# -- JSON-RPC params (governance/rpc.py): parsed before the actor sees anything -------------
def _rpc_code(fn, params) -> tuple[int, str]:
    try:
        fn(params)
    except RpcError as exc:
        return exc.code, exc.message
    raise AssertionError(f"{params!r} was accepted")


def test_rpc_params_positional_named_and_one_object_agree() -> None:
    want = Propose("p1", 7, kind="generic", payload=b"\xab", expiry=99)
    assert rpc.parse_propose(["p1", "generic", "0xab", 7, 99]) == want
    assert rpc.parse_propose({"id": "p1", "payload": "0xab", "nonce": 7, "expiry": 99}) == want
    assert rpc.parse_propose([{"id": "p1", "payload": "ab", "nonce": 7, "expiry": 99}]) == want
    assert rpc.parse_status([]) == Status(None)
    assert rpc.parse_execute(["p1"]) == Execute("p1")
    assert rpc.parse_sign(["p1", "0x01", "0x02"]) == Sign("p1", b"\x01", b"\x02")


def test_rpc_bad_params_are_invalid_params_naming_the_parameter() -> None:
    cases = [
        (rpc.parse_propose, {"id": "p1"}, "missing parameter 'nonce'"),
        (rpc.parse_propose, {"id": "p1", "nonce": True}, "parameter 'nonce' has the wrong type"),
        (rpc.parse_propose, {"id": 5, "nonce": 1}, "parameter 'id' has the wrong type"),
        (rpc.parse_propose, {"id": "p", "nonce": 1, "kind": "nope"}, "kind must be one of"),
        (rpc.parse_propose, {"id": "p", "nonce": 1, "payload": "0xzz"}, "payload"),
        (rpc.parse_propose, ["a", "generic", "0x", 1, 2, 3], "at most 5 parameters"),
        (rpc.parse_sign, ["p1", "0x01"], "missing parameter 'signature'"),
        (rpc.parse_execute, {"approval": {"bogus": 1}}, ""),
    ]
    for fn, params, needle in cases:
        code, message = _rpc_code(fn, params)
        assert code == -32602 and needle in message, (params, message)


def test_rpc_rejection_maps_to_gov_error_with_reason_and_detail() -> None:
    err = rpc.rpc_error(Reply(False, reason="replay", detail="proposal p1 already executed"))
    assert (err.code, err.message) == (rpc.GOV_ERROR, "replay: proposal p1 already executed")
    assert rpc.rpc_error(Reply(False, reason="expired")).message == "expired"
    assert set(rpc.unavailable_methods("why")) == set(rpc.METHODS)
