"""The generators make what they say: valid values pass the framework's oracles, every invalid
variant is refused for the rule it names (and only for what that rule implies)."""

from __future__ import annotations

import struct
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from alys_test_framework import generators as g
from alys_test_framework.generators.chain import IMPLIED
from alys_test_framework.oracles import bls
from alys_test_framework.oracles.chain import ChainOracle, OBlock
from alys_test_framework.oracles.chain.encoding import EncodingError
from alys_test_framework.targets.actor_runtime import Priority

FAST = settings(max_examples=60, deadline=None, derandomize=True)


def _rules_broken(ib: g.InvalidBlock) -> set[str]:
    assert ib.spec is not None
    oracle = ChainOracle(ib.spec)
    if ib.rule == "E1":
        try:
            OBlock.decode(ib.encoded)
        except EncodingError:
            return {"E1"}
        return set()
    b = ib.block
    if ib.rule == "C1":
        return {v.rule for v in oracle.genesis_violations(b)}
    found = oracle.block_violations(b) + oracle.signature_violations([b])
    return {v.rule for v in found + oracle.link_violations(ib.parent, b)}


def test_every_invalid_block_breaks_exactly_its_rule() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(g.invalid_blocks())
    def check(ib: g.InvalidBlock) -> None:
        broken = _rules_broken(ib)
        seen[ib.rule] += 1
        assert ib.rule in broken, (ib, broken)
        assert broken <= {ib.rule} | IMPLIED.get(ib.rule, frozenset()), (ib, broken)

    check()
    assert set(seen) == set(g.BREAKABLE_RULES), seen


@FAST
@given(g.chains())
def test_chains_and_their_forks_are_valid(chain: g.Chain) -> None:
    oracle = ChainOracle(chain.spec)
    assert not oracle.genesis_violations(chain.blocks[0])
    for parent, b in zip(chain.blocks, chain.blocks[1:], strict=False):
        assert not oracle.block_violations(b) + oracle.link_violations(parent, b)
    assert not oracle.signature_violations(list(chain.blocks))
    for fork in chain.forks:
        ancestor = chain.blocks[fork[0].height - 1]
        assert fork[0].hash != (
            chain.blocks[fork[0].height].hash if fork[0].height < len(chain.blocks) else None
        )
        for parent, b in zip((ancestor, *fork), fork, strict=False):
            assert not oracle.block_violations(b) + oracle.link_violations(parent, b)
        assert not oracle.signature_violations(list(fork))


@FAST
@given(g.checkpoint_cases())
def test_checkpoint_cases_match_the_oracle(case: g.CheckpointCase) -> None:
    found = {
        v.rule
        for v in ChainOracle(case.chain.spec).checkpoint_violations(
            list(case.chain.blocks), case.checkpoints
        )
    }
    assert found == ({case.broken} if case.broken else set()), (case, found)


@FAST
@given(g.bls_signatures(), g.invalid_bls_signatures())
def test_signatures_verify_and_invalid_ones_do_not(
    good: g.SignedMessage, bad: g.BadSignature
) -> None:
    assert bls.verify(good.key.pk, good.message, good.signature)
    assert not bls.verify(bad.key.pk, bad.message, bad.signature), bad.kind


@FAST
@given(g.federation_signatures())
def test_federation_aggregates_verify_for_their_signers(f: g.FederationSignature) -> None:
    if f.signers:
        pks = [f.members[i].pk for i in f.signers]
        assert bls.fast_aggregate_verify(pks, f.message, f.aggregate)
    assert f.meets_threshold == (len(f.signers) >= f.threshold)


@FAST
@given(g.federation_signatures(below_threshold=True))
def test_below_threshold_never_meets_it(f: g.FederationSignature) -> None:
    assert not f.meets_threshold


@FAST
@given(g.wire_messages())
def test_wire_messages_are_typed_frames(m: g.WireMessage) -> None:
    (length,) = struct.unpack(">I", m.frame[:4])
    assert length == len(m.payload) >= 1 and 1 <= m.payload[0] <= 12


@FAST
@given(g.malformed_frames())
def test_malformed_frames_name_a_wire_rule(f: g.MalformedFrame) -> None:
    (length,) = struct.unpack(">I", f.data[:4])
    if f.rule == "W1":
        assert length == 0 or length > 8 << 20
    else:
        assert length == len(f.data) - 4 and f.kind in g.MALFORMED


@FAST
@given(g.message_bursts())
def test_bursts_number_each_sender_from_zero(burst: tuple[g.ActorMessage, ...]) -> None:
    per: dict[str, list[int]] = {}
    for m in burst:
        per.setdefault(m.sender, []).append(m.seq)
        assert isinstance(m.priority, Priority)
    assert all(seqs == list(range(len(seqs))) for seqs in per.values())


@FAST
@given(g.supervision_cases(), g.mailbox_bursts())
def test_actor_cases_are_in_range(case: g.SupervisionCase, burst: g.MailboxBurst) -> None:
    assert all(0 <= c < case.children for c in case.crashes) and case.max_restarts >= 1
    assert burst.capacity >= 1 and burst.messages


@FAST
@given(g.sync_states())
def test_sync_states_respect_s1(s: g.SyncState) -> None:
    per: Counter[int] = Counter(p for p, _, _ in s.in_flight)
    assert all(n <= 4 for n in per.values())
    for p, start, count in s.in_flight:
        assert 1 <= count <= s.range_size and start > s.head
        assert start + count - 1 <= min(s.peer_heads[p], s.head + 4096)


@FAST
@given(g.failure_schedules(nodes=3))
def test_failure_schedules_heal_within_the_horizon(faults: tuple[g.Fault, ...]) -> None:
    assert list(faults) == sorted(faults, key=lambda f: (f.at_s, f.node))
    for f in faults:
        assert f.kind in g.FAULT_KINDS and f.at_s + f.duration_s <= 5.0 + 1e-9 and f.peer != f.node


@FAST
@given(g.byzantine_federations(), g.invalid_proposals())
def test_governance_values(fed: g.ByzantineFederation, bad: tuple[str, g.Proposal]) -> None:
    assert fed.executes() == (fed.expected_approvals() >= fed.threshold)
    assert 1 <= fed.threshold <= fed.size
    assert bad[0] in ("expired", "nonce_zero", "empty_id", "other_federation", "unknown_kind")


@FAST
@given(
    g.peer_infos(),
    g.peer_addresses(),
    g.invalid_peer_addresses(),
    g.hex_hashes(),
    g.invalid_hex_hashes(),
    g.eth_addresses(),
)
def test_primitives(peer: g.PeerInfo, addr: str, bad_addr: tuple[str, str], h: str,
                    bad_h: tuple[str, str], eth: str) -> None:  # fmt: skip
    assert -100 < peer.score <= 0 and set(peer.to_json()) == {
        "id",
        "addr",
        "inbound",
        "head",
        "score",
    }
    host, port = addr.rsplit(":", 1)
    assert host and 1 <= int(port) <= 65535
    kind, text = bad_addr
    parts = text.rsplit(":", 1)
    assert (
        len(parts) == 1 or not parts[0] or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 65535
    ), kind
    assert len(h) == 66 and len(eth) == 42
    kind, text = bad_h
    assert not (
        text.startswith("0x") and len(text) == 66 and all(c in "0123456789abcdef" for c in text[2:])
    ), kind


@FAST
@given(st.data())
def test_scenarios_build(data: st.DataObject) -> None:
    data.draw(g.blockchain_scenarios())
    data.draw(g.actor_system_scenarios())
    data.draw(g.governance_scenarios())
