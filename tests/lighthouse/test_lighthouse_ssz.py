"""SSZ consensus types against consensus-spec-tests vectors, and cross-fork conversions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alys_node.consensus import (
    ConversionError,
    DowngradeError,
    convert_fork,
    deserialize,
    from_obj,
    get_type,
    hash_tree_root,
    payload_to_header,
    registered,
    serialize,
    to_obj,
)
from alys_test_framework.harness.lighthouse import PACKAGED_VECTORS

SSZ = PACKAGED_VECTORS / "ssz"
CASES = sorted(p for p in SSZ.glob("*/*/*") if (p / "value.yaml").is_file())


def _load(case: Path):
    fork, name, cname = case.parts[-3:]
    preset = "minimal" if cname.startswith("minimal_") else "mainnet"
    value = yaml.safe_load((case / "value.yaml").read_text())
    root = yaml.safe_load((case / "roots.yaml").read_text())["root"]
    return fork, name, preset, value, root


def test_lighthouse_vectors_cover_every_registered_type() -> None:
    assert len(CASES) >= 20
    covered = {tuple(c.parts[-3:-1]) for c in CASES}
    assert covered == set(registered())


@pytest.mark.parametrize("case", CASES, ids=lambda p: "/".join(p.parts[-3:]))
def test_lighthouse_ssz_static_case(case: Path) -> None:
    fork, name, preset, value, root = _load(case)
    view = from_obj(fork, name, value, preset)
    assert "0x" + hash_tree_root(view).hex() == root
    again = deserialize(fork, name, serialize(view), preset)
    assert again == view and serialize(again) == serialize(view)
    assert to_obj(again) == value


def test_lighthouse_minimal_preset_changes_the_root() -> None:
    case = next(c for c in CASES if c.name.startswith("minimal_"))
    fork, name, _preset, value, root = _load(case)
    if len(value["withdrawals"]) <= 4:
        mainnet = from_obj(fork, name, value, "mainnet")
        assert "0x" + hash_tree_root(mainnet).hex() != root  # list limit changes tree depth


def test_lighthouse_minimal_preset_enforces_limit() -> None:
    w = {"index": 1, "validator_index": 2, "address": "0x" + "11" * 20, "amount": 3}
    value = to_obj(get_type("capella", "ExecutionPayload", "minimal").default(None))
    value["withdrawals"] = [w] * 5
    with pytest.raises(ConversionError, match="withdrawals"):
        from_obj("capella", "ExecutionPayload", value, "minimal")
    assert len(from_obj("capella", "ExecutionPayload", value, "mainnet").withdrawals) == 5


def test_lighthouse_from_obj_errors_name_the_field() -> None:
    value = to_obj(get_type("bellatrix", "ExecutionPayload").default(None))
    del value["fee_recipient"]
    with pytest.raises(ConversionError, match="fee_recipient"):
        from_obj("bellatrix", "ExecutionPayload", value)
    value = to_obj(get_type("bellatrix", "ExecutionPayload").default(None))
    value["gas_used"] = 2**64
    with pytest.raises(ConversionError, match="gas_used"):
        from_obj("bellatrix", "ExecutionPayload", value)
    with pytest.raises(ValueError, match="unknown fork"):
        get_type("electra", "ExecutionPayload")
    with pytest.raises(ValueError, match="no type 'Withdrawal' in fork bellatrix"):
        get_type("bellatrix", "Withdrawal")
    with pytest.raises(ConversionError):
        deserialize("capella", "Withdrawal", b"\x00" * 3)


def test_lighthouse_payload_to_header_matches_roots() -> None:
    for case in CASES:
        fork, name, preset, value, _ = _load(case)
        if name != "ExecutionPayload":
            continue
        payload = from_obj(fork, name, value, preset)
        header = payload_to_header(payload)
        assert header.transactions_root == payload.transactions.hash_tree_root()
        if fork != "bellatrix":
            assert header.withdrawals_root == payload.withdrawals.hash_tree_root()
        assert header.block_hash == payload.block_hash


def test_lighthouse_fork_upgrade_and_lossless_downgrade() -> None:
    for case in CASES:
        fork, name, preset, value, _ = _load(case)
        view = from_obj(fork, name, value, preset)
        if fork == "bellatrix":
            up = convert_fork(view, "deneb")
            assert int(up.blob_gas_used) == 0 and convert_fork(up, "bellatrix") == view
            if name == "ExecutionPayload":
                assert payload_to_header(up) == convert_fork(payload_to_header(view), "deneb")
        elif name == "ExecutionPayload" and len(view.withdrawals):
            with pytest.raises(DowngradeError, match="withdrawals"):
                convert_fork(view, "bellatrix")
        elif fork == "deneb" and name == "ExecutionPayloadHeader":
            with pytest.raises(DowngradeError, match="blob_gas_used|withdrawals_root"):
                convert_fork(view, "capella")
