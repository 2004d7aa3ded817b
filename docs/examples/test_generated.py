"""Properties of your own over the framework's generators (plain Hypothesis in pytest)."""

from __future__ import annotations

from hypothesis import given, settings

from alys_test_framework import generators as g
from alys_test_framework.oracles.chain import ChainOracle


@settings(max_examples=25, deadline=None)
@given(g.invalid_blocks(rules=("B1", "B3", "B5", "C3")))
def test_the_oracle_names_the_broken_rule(bad: g.InvalidBlock) -> None:
    oracle = ChainOracle(bad.spec)
    found = oracle.block_violations(bad.block) + oracle.signature_violations([bad.block])
    found += oracle.link_violations(bad.parent, bad.block)
    assert bad.rule in {v.rule for v in found}


@settings(max_examples=50, deadline=None)
@given(g.message_bursts())
def test_bursts_number_each_sender_in_order(burst: tuple[g.ActorMessage, ...]) -> None:
    seen: dict[str, int] = {}
    for m in burst:
        assert m.seq == seen.get(m.sender, 0)
        seen[m.sender] = m.seq + 1
