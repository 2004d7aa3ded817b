"""A governance proposal through the federation's ledger, signed by its members."""

from __future__ import annotations

from typing import Any

import pytest

from alys_test_framework.oracles import bls

NOW = 1_700_000_000_000


def test_threshold_signatures_execute_once(federation: Any) -> None:
    ledger = federation.ledger()
    t = federation.target
    p = t.proposal(ledger.federation, pid="fee", kind="generic", payload=b"fee=2", nonce=1,
                   expiry=NOW + 60_000)  # fmt: skip
    ledger.propose(p, NOW)
    msg = ledger.message_for(p)
    for m in federation.members[: federation.threshold]:
        ledger.sign("fee", m.pk, bls.sign(m.sk, msg), NOW)
    approval = ledger.aggregate("fee")
    assert len(approval.signers) == federation.threshold
    ledger.execute(approval, NOW)
    with pytest.raises(Exception, match="replay"):
        ledger.execute(approval, NOW + 1)  # the nonce is used up
