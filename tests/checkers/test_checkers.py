"""Each checker passes a correct history and fails a broken one for the right reason: the
rule id, the node and the height it names."""

from __future__ import annotations

from alys_test_framework.checkers import (
    CheckerBounds,
    check_bans_hold,
    check_chains_valid,
    check_checkpoints,
    check_convergence,
    check_durability,
    check_fork_choice,
    check_gossip,
    check_peer_limit,
    gossip_stats,
    run_checkers,
    violations,
)

from .history_kit import HB, chain, fork, hx, oracle, sign


def where(vs):  # type: ignore[no-untyped-def]
    return sorted((v.rule, v.node, v.height) for v in vs)


def healthy(n_nodes: int = 3, height: int = 30) -> HB:
    hb = HB()
    blocks = list(chain(40))[: height + 1]
    for i in range(n_nodes):
        hb.process(f"node-{i}", "start")
    for i in range(n_nodes):
        hb.hold(f"node-{i}", blocks[:1])
    for b in blocks[1:]:
        for i in range(n_nodes):
            hb.hold(f"node-{i}", [b], delay=0.01 * i)
    hb.ack("node-0", blocks[height])
    digests = oracle().digests(blocks)
    for i in range(n_nodes):
        cps = [
            {"height": h, "hash": hx(blocks[h]), "digest": "0x" + digests[h].hex()}
            for h in (10, 20, 30)
            if h <= height
        ]
        hb.ev("checkpoints", f"node-{i}", checkpoints=cps)
        hb.ev("peers", f"node-{i}", peers=[{"addr": f"127.0.0.2:{j}"} for j in range(n_nodes - 1)])
    return hb


def test_a_healthy_history_passes_every_checker() -> None:
    res = run_checkers(healthy().history(), oracle(), CheckerBounds(convergence_s=5, max_peers=4))
    assert violations(res) == [], [str(v) for v in violations(res)]
    assert set(res) == {"chain", "durability", "checkpoints", "fork_choice", "convergence",
                        "gossip", "peer_limit", "bans"}  # fmt: skip


def test_chain_checker_names_a_forged_block_on_one_node() -> None:
    hb = healthy()
    blocks = list(chain(40))
    forged = blocks[31].replace(signature=sign(blocks[31], (blocks[31].producer + 1) % 3).signature)
    hb.hold("node-2", [forged])
    vs = check_chains_valid(hb.history(), oracle())
    assert where(vs) == [("B1", "node-2", 31)]
    assert str(vs[0]).startswith("[B1] node-2 height 31 block 0x")


def test_a_forged_copy_with_the_honest_header_hash_is_judged_on_the_node_holding_it() -> None:
    """The signature is not covered by the header hash: both copies share it. Keyed by hash
    alone, the oracle would judge the honest copy (seen first) for the node holding the forged
    one."""
    hb = healthy()
    blocks = list(chain(40))
    forged = blocks[31].replace(signature=sign(blocks[31], (blocks[31].producer + 1) % 3).signature)
    assert forged.hash == blocks[31].hash
    hb.hold("node-0", [blocks[31]])
    hb.hold("node-1", [forged])
    assert where(check_chains_valid(hb.history(), oracle())) == [("B1", "node-1", 31)]


def test_chain_checker_judges_reorged_out_blocks_too() -> None:
    hb = healthy()
    blocks = list(chain(40))
    bad = blocks[31].replace(producer=(blocks[31].producer + 1) % 3)
    hb.hold("node-1", [bad])
    hb.reorg("node-1", 30, bad, fork(blocks, 30, 2))
    rules = where(check_chains_valid(hb.history(), oracle()))
    assert ("B3", "node-1", 31) in rules and ("B1", "node-1", 31) in rules


def test_chain_checker_catches_a_broken_link() -> None:
    hb = healthy()
    blocks = list(chain(40))
    unlinked = sign(blocks[31].replace(parent_hash=blocks[29].hash), blocks[31].producer)
    hb.hold("node-0", [unlinked])
    assert where(check_chains_valid(hb.history(), oracle())) == [("C3", "node-0", 31)]


def test_durability_acknowledged_block_lost_after_sigkill() -> None:
    hb = healthy()
    blocks = list(chain(40))
    hb.process("node-0", "kill")
    hb.process("node-0", "restart")
    hb.hold("node-0", blocks[:1])  # came back empty: genesis only
    vs = check_durability(hb.history())
    assert ("D1", "node-0", 30) in where(vs)
    assert ("D2", "node-0", 30) in where(vs)


def test_durability_passes_a_restart_that_kept_everything() -> None:
    hb = healthy()
    blocks = list(chain(40))
    hb.process("node-0", "kill")
    hb.process("node-0", "restart")
    hb.head("node-0", blocks[30])
    assert check_durability(hb.history()) == []


def test_durability_replaced_without_reorg() -> None:
    hb = healthy()
    blocks = list(chain(40))
    other = fork(blocks, 29, 1)[0]
    hb.hold("node-0", [other])  # height 30 now another block, no reorg recorded
    assert ("D1", "node-0", 30) in where(check_durability(hb.history()))


def test_checkpoints_missing_wrong_hash_wrong_digest() -> None:
    blocks = list(chain(40))[:31]
    d = oracle().digests(blocks)
    for cps, rule in [
        ([(10, blocks[10].hash, d[10]), (30, blocks[30].hash, d[30])], "K1"),
        (
            [
                (10, blocks[10].hash, d[10]),
                (20, blocks[21].hash, d[20]),
                (30, blocks[30].hash, d[30]),
            ],
            "K2",
        ),
        (
            [
                (10, blocks[10].hash, d[10]),
                (20, blocks[20].hash, d[21]),
                (30, blocks[30].hash, d[30]),
            ],
            "K3",
        ),
    ]:
        hb = healthy()
        hb.ev("checkpoints", "node-1", checkpoints=[
            {"height": h, "hash": "0x" + x.hex(), "digest": "0x" + y.hex()} for h, x, y in cps])  # fmt: skip
        got = where(check_checkpoints(hb.history(), oracle()))
        assert got == [(rule, "node-1", 20)], (rule, got)


def test_checkpoints_after_a_reorg_must_follow_the_new_branch() -> None:
    hb = healthy(height=30)
    blocks = list(chain(40))
    branch = fork(blocks, 25, 7)  # 26..32, crosses checkpoint 30
    hb.reorg("node-0", 25, blocks[30], branch)
    full = blocks[:26] + branch
    d = oracle().digests(full)
    stale = [
        {
            "height": h,
            "hash": hx(blocks[h]),
            "digest": "0x" + oracle().digests(blocks[:31])[h].hex(),
        }
        for h in (10, 20, 30)
    ]
    hb.ev("checkpoints", "node-0", checkpoints=stale)
    assert where(check_checkpoints(hb.history(), oracle())) == [("K2", "node-0", 30)]
    fresh = [{"height": h, "hash": hx(full[h]), "digest": "0x" + d[h].hex()} for h in (10, 20, 30)]
    hb.ev("checkpoints", "node-0", checkpoints=fresh)
    assert check_checkpoints(hb.history(), oracle()) == []


def test_fork_choice_tie_shorter_deep_and_a_valid_reorg() -> None:
    blocks = list(chain(40))
    ok = healthy()
    ok.reorg("node-1", 28, blocks[30], fork(blocks, 28, 3))  # 29..31 > 30: fine
    assert check_fork_choice(ok.history()) == []

    tie = healthy()
    tie.reorg("node-1", 28, blocks[30], fork(blocks, 28, 2))  # 29..30 == 30: tie switch
    assert where(check_fork_choice(tie.history())) == [("F1", "node-1", 30)]

    down = healthy()
    down.head("node-2", blocks[25])  # head went down with no reorg while running
    got = where(check_fork_choice(down.history()))
    assert ("F3", "node-2", 25) in got and ("F4", "node-2", 25) in got


def test_fork_choice_reorg_deeper_than_the_bound() -> None:
    long = list(chain(200))
    hb = HB()
    hb.hold("node-0", long[:101])
    hb.reorg("node-0", 30, long[100], fork(long, 30, 75))  # ancestor 30, old head 100: 70 deep
    assert ("F2", "node-0", 105) in where(check_fork_choice(hb.history()))


def test_convergence_within_the_bound_and_not() -> None:
    blocks = list(chain(40))
    hb = healthy()
    hb.fault("apply")
    hb.hold("node-0", blocks[31:33])
    hb.fault("clear")
    hb.hold("node-1", blocks[31:33])
    hb.hold("node-2", blocks[31:33])
    assert check_convergence(hb.history(), bound_s=1.0) == []
    hb2 = healthy()
    hb2.fault("apply")
    hb2.hold("node-0", blocks[31:33])
    hb2.fault("clear")
    hb2.t += 5.0
    hb2.hold("node-1", blocks[31:33])
    vs = check_convergence(hb2.history(), bound_s=1.0)
    assert [v.rule for v in vs] == ["S5"] and "node-2 at 30" in vs[0].detail


def test_gossip_reach_and_latency_per_node() -> None:
    hb = healthy()
    stats = gossip_stats(hb.history())
    assert {n: s.reach for n, s in stats.items()} == {"node-0": 1.0, "node-1": 1.0, "node-2": 1.0}
    assert stats["node-2"].pct(95) is not None and abs(stats["node-2"].pct(95) - 0.02) < 1e-6
    assert where(check_gossip(hb.history(), max_latency_s=0.015)) == [("G4", "node-2", None)]
    assert check_gossip(hb.history(), max_latency_s=0.025) == []
    blocks = list(chain(40))
    miss = healthy()
    miss.hold("node-0", blocks[31:35])
    miss.hold("node-1", blocks[31:35])
    got = where(check_gossip(miss.history()))
    assert got == [("G4", "node-2", 31)]


def test_peer_limit_and_bans_that_do_not_hold() -> None:
    hb = healthy()
    hb.ev("peers", "node-1", peers=[{"addr": f"127.0.0.2:{j}"} for j in range(5)])
    assert where(check_peer_limit(hb.history(), 4)) == [("P4", "node-1", None)]
    assert check_peer_limit(hb.history(), {"node-1": 5}) == []

    bans = HB()
    bans.ev("bans", "node-0", bans=[{"addr": "127.0.0.2:9", "reason": "x", "until": 5000.0}])
    bans.ev("peers", "node-0", peers=[{"addr": "127.0.0.2:9"}])  # one poll of grace
    bans.ev("peers", "node-0", peers=[])
    assert check_bans_hold(bans.history()) == []
    bans.ev("peers", "node-0", peers=[{"addr": "127.0.0.2:9"}])
    assert where(check_bans_hold(bans.history())) == [("P3", "node-0", None)]
    lifted = HB()
    lifted.ev("bans", "node-0", bans=[{"addr": "127.0.0.2:9", "reason": "x", "until": 5000.0}])
    lifted.ev("bans", "node-0", bans=[])
    assert [v.rule for v in check_bans_hold(lifted.history())] == ["P3"]


def test_history_round_trips_through_jsonl(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alys_test_framework.checkers import HistoryWriter, read_history

    w = HistoryWriter(tmp_path / "history.jsonl")
    for e in healthy().events:
        w.write(**e)
    w.close()
    with open(tmp_path / "history.jsonl", "a") as fh:
        fh.write('{"t": 1, "kind": "head", "no')  # a torn last line is ignored
    h = read_history(tmp_path / "history.jsonl")
    assert violations(run_checkers(h, oracle(), CheckerBounds(convergence_s=5, max_peers=4))) == []


def test_a_restart_forgets_bans_without_breaking_p3() -> None:
    """Bans live in memory (CHAIN_RULES P3): a restarted node lists none, which is no lifted
    ban; the same empty list without a restart is one."""
    for restart, rules in ((True, []), (False, ["P3"])):
        hb = HB()
        hb.ev("bans", "node-0", bans=[{"addr": "127.0.0.9:7000", "until": 5000.0}])
        if restart:
            hb.process("node-0", "restart")
        hb.ev("bans", "node-0", bans=[])
        assert [v.rule for v in check_bans_hold(hb.history())] == rules
