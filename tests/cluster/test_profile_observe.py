"""Black-box measurements standing in for the admin/dev RPC the real Alys node lacks
(targets/cluster/observe.py): each is checked against the reference node's own answer, and
each must also say "no" (or "cannot tell") on a node that behaves otherwise."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from alys_test_framework.targets.cluster import ALYS, REFERENCE, NodeCluster
from alys_test_framework.targets.cluster.byzantine import BlockForger
from alys_test_framework.targets.cluster.fault_proxy import ConnRecord
from alys_test_framework.targets.cluster.fixture import ChainFixture, NodeTarget, produce_blocks
from alys_test_framework.targets.cluster.observe import (
    PENDING,
    judge_ban,
    observed_ban,
    observed_peers,
)
from alys_test_framework.waiting import Stalled, wait_until

NODE = ["{python}", "-m", "alys_node"]
WINDOW_S, HOLD_S = 4.0, 2.0  # the node's first redials come after 0.5, 1 and 2 s


def rec(cid: int, opened: float, closed: float | None, by: int | None) -> ConnRecord:
    return ConnRecord(cid, 1, 0, opened, closed, by)


# -- the pure ban judgement ------------------------------------------------------------------
def test_judge_ban_needs_a_victim_close_refused_reconnects_and_an_attempt() -> None:
    lie = rec(1, 0.0, 1.0, by=0)  # the victim (node 0) ended the liar's connection at t=1
    refused = [rec(2, 2.0, 2.01, by=0), rec(3, 3.0, 3.02, by=0)]
    banned = judge_ban([lie, *refused], 0, window_start=1.5, now=6.0, window_s=4, hold_s=2)
    assert banned.banned is True and banned.attempts == 2

    readmitted = [rec(2, 2.0, None, None)]  # the now-honest liar is kept: not a ban
    obs = judge_ban([lie, *readmitted], 0, 1.5, now=4.5, window_s=4, hold_s=2)
    assert obs.banned is False and "re-admitted" in obs.evidence

    kept = rec(1, 0.0, None, None)  # the victim kept the liar connected
    aborted = ConnRecord(5, 1, 0, 0.0, 1.0, None, aborted_by_proxy=True)  # a fault, no close
    for records in ([kept], [aborted]):
        obs = judge_ban(records, 0, 1.5, now=6.0, window_s=4, hold_s=2)
        assert obs.banned is False and "never ended" in obs.evidence

    obs = judge_ban([lie], 0, 1.5, now=6.0, window_s=4, hold_s=2)  # nobody redialed
    assert obs.banned is None and "inconclusive" in obs.evidence

    assert judge_ban([lie, *refused], 0, 1.5, now=3.5, window_s=4, hold_s=2).evidence == PENDING
    late = rec(4, 5.0, None, None)  # dialed just before the window ended, still open: pending
    assert (
        judge_ban([lie, *refused, late], 0, 1.5, now=5.6, window_s=4, hold_s=2).evidence == PENDING
    )
    assert judge_ban([lie, *refused, late], 0, 1.5, now=7.1, window_s=4, hold_s=2).banned is False
    before_lie = judge_ban([lie], 0, 1.5, now=6.0, window_s=4, hold_s=2, since=1.2)
    assert before_lie.banned is False  # a close before ``since`` (e.g. a restart) is no verdict


# -- profiles ---------------------------------------------------------------------------------
def test_alys_profile_measures_peers_and_names_what_it_cannot() -> None:
    assert ALYS.supports("admin_peers") and not ALYS.serves("admin_peers")
    assert ALYS.lacks("admin_peers", "new_blocks") is None
    assert REFERENCE.lacks("admin_peers", "new_blocks", "received_at", "dev_produceBlocks") is None
    reason = ALYS.lacks("admin_peers", "dev_produceBlocks")
    assert reason is not None and "offers no dev_produceBlocks" in reason
    assert "how many blocks" in reason and "admin_peers" not in reason.split("(")[0]
    assert "receipt" in (ALYS.lacks("received_at") or "")
    assert "no max-peers flag" in (ALYS.lacks(flags=("max_peers",)) or "")
    assert "oracle" in (ALYS.lacks("reference_block_json") or "")
    assert REFERENCE.lacks("reference_block_json") is None
    assert "checkpoint" in (ALYS.lacks("chain_getCheckpoints") or "")


# -- peers -----------------------------------------------------------------------------------
@pytest.mark.slow  # a cross-check of the adapter against the reference node's own RPC
def test_observed_peers_match_the_nodes_own_peer_list(tmp_path: Path) -> None:
    """Proxied and direct links are both seen; a killed peer leaves the set."""

    async def main() -> None:
        async with NodeCluster(NODE, workdir=tmp_path, profile=REFERENCE) as c:
            await c.start(2)
            await c.add_node(["--bootnode", c.nodes[0].p2p_addr])  # 2 -> 0 direct
            await c.connect(1, 0)  # 1 -> 0 through the proxy

            async def agree() -> bool:  # peer exchange may add 1 <-> 2 (direct) as well
                own = [len(await n.call("admin_peers")) for n in c.nodes]
                seen = [len(observed_peers(c, i)) for i in range(3)]
                return own == seen and own[0] == 2

            await wait_until(
                agree, 20, "observed peer counts equal the nodes' own, node-0 has 2",
                observe=lambda: [observed_peers(c, i) for i in range(3)],
            )  # fmt: skip
            seen = {p["id"]: p["via"] for p in observed_peers(c, 0)}
            assert seen == {"node-1": "proxy", "node-2": "direct"}
            await c.kill(1)
            await wait_until(
                lambda: [p["id"] for p in observed_peers(c, 0)] == ["node-2"], 10,
                "node-1 gone from node-0's observed peers", observe=lambda: observed_peers(c, 0),
            )  # fmt: skip

    asyncio.run(main())


# -- bans ------------------------------------------------------------------------------------
async def _corrupt_and_observe(tmp_path: Path, extra: list[str]) -> tuple[object, list[object]]:
    async with NodeCluster(NODE, workdir=tmp_path, profile=ALYS) as c:
        await c.start(2, lambda i: extra if i == 0 else [])
        await c.connect(1, 0)  # node 1 dials node 0 (a bootnode: it redials by itself)
        await wait_until(lambda: observed_peers(c, 0), 20, "node-0 peered")
        assert c.proxy is not None
        since = time.monotonic()
        fault = c.proxy.apply([(1, 0)], "corrupt", corrupt=1.0)
        obs = await observed_ban(
            c, 0, 1, timeout_s=20, clear=fault, since=since, window_s=WINDOW_S, hold_s=HOLD_S
        )
        own = await c.nodes[0].call_raw("admin_bans")  # the node's own word, to cross-check
        return obs, own


@pytest.mark.slow  # a cross-check of the adapter against the reference node's own RPC
def test_observed_ban_agrees_with_the_nodes_ban_list(tmp_path: Path) -> None:
    obs, own = asyncio.run(_corrupt_and_observe(tmp_path, []))
    assert obs.banned is True, obs  # type: ignore[attr-defined]
    assert own, "the reference node's own ban list is empty"


def test_observed_ban_says_no_for_a_node_that_only_disconnects(tmp_path: Path) -> None:
    """A ban that expires at once is a node that drops the offender but takes it back."""
    obs, _ = asyncio.run(_corrupt_and_observe(tmp_path, ["--ban-seconds", "0.01"]))
    assert obs.banned is False and "re-admitted" in obs.evidence, obs  # type: ignore[attr-defined]


@pytest.mark.slow
def test_observed_ban_of_a_byzantine_source_under_the_alys_profile(tmp_path: Path) -> None:
    """The byzantine harness test's flow: the victim meets a liar serving forged blocks first;
    the ban is measured at the proxy, with no admin_bans."""

    async def main() -> None:
        fx = ChainFixture(NodeTarget.parse(None, None, "alys"), tmp_path, slot_ms=2000)
        await fx.template(300)
        async with fx.new_cluster("byz") as c:
            src = fx.copy_template(300, c.root / "liar")
            liar = await c.add_node(fx.follower_args(), datadir=src)
            victim = await c.add_node(fx.follower_args())
            assert c.proxy is not None
            since = time.monotonic()
            lie = c.proxy.apply([(liar.index, victim.index)], "byzantine", rewriter=BlockForger)
            await c.connect(victim.index, liar.index)
            obs = await observed_ban(
                c, victim.index, liar.index, timeout_s=30, clear=lie, since=since,
                window_s=WINDOW_S, hold_s=HOLD_S,
            )  # fmt: skip
            assert obs.banned is True, obs
            assert any(r.forged_heights for r in c.proxy.rewriters)
            assert await victim.call_raw("admin_bans")

    asyncio.run(main())


# -- self-produced blocks --------------------------------------------------------------------
def test_alys_producer_makes_blocks_by_itself_and_a_keyless_node_stalls(tmp_path: Path) -> None:
    async def main() -> None:
        fx = ChainFixture(NodeTarget.parse(None, None, "alys"), tmp_path, slot_ms=200)
        await fx.init_spec()
        assert "--dev" not in fx.producer_args()  # --dev is on-demand production here
        async with fx.new_cluster("aura") as c:
            producer = await c.add_node(fx.producer_args())
            follower = await c.add_node(fx.follower_args())
            head = await produce_blocks(producer, 3)
            assert head["height"] >= 3
            with pytest.raises(Stalled, match="node-1 produces 1 block"):
                await produce_blocks(follower, 1, stall_s=1.0)

    asyncio.run(main())
