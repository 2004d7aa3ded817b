"""type_compatibility: the target's SSZ types and Engine JSON codec against the specs.

Judged by consensus-spec-tests vectors and by the framework's SSZ oracle (the specs'
containers on remerkleable), never by the target's own types.
"""

from __future__ import annotations

from typing import Any

from ...oracles import ssz as oracle
from ...oracles.engine import codec as spec_codec
from ...oracles.engine import spec
from ...oracles.ssz.values import from_engine_values
from ..base import Outcome, harness_test
from .kit import PAYLOAD_SHAPE, LighthouseBase, SszCase, expect, first, require, ssz_cases


class _Problems:
    def __init__(self) -> None:
        self.json: list[str] = []
        self.header: list[str] = []
        self.upgrade: list[str] = []
        self.refuse: list[str] = []


class TypeCompatibility(LighthouseBase):
    @harness_test("type_compatibility")
    async def test_ssz_static_vectors(self, out: Outcome) -> None:
        """Every consensus-spec-tests case: hash_tree_root and serialize/deserialize round trip."""
        cases = ssz_cases(self.vectors_dir)
        require(
            out,
            spec.SSZ_STATIC,
            bool(cases),
            "SSZ vectors present",
            f"none under {self.vectors_dir}",
        )
        types = self.target.types
        root_bad, trip_bad, obj_bad = [], [], []
        for case in cases:
            value, expected = case.value(), case.root()
            try:
                view = types.from_obj(case.fork, case.name, value, case.preset)
            except ValueError as exc:
                obj_bad.append(f"{case.label}: {exc}")
                continue
            got = "0x" + types.hash_tree_root(view).hex()
            if got != expected:
                root_bad.append(f"{case.label}: {got[:18]}.. != {expected[:18]}..")
            again = types.deserialize(case.fork, case.name, types.serialize(view), case.preset)
            if (
                types.hash_tree_root(again) != types.hash_tree_root(view)
                or types.to_obj(again) != value
            ):
                trip_bad.append(case.label)
        out.record(ssz_cases=len(cases))
        expect(
            out,
            spec.SSZ_STATIC,
            not obj_bad,
            "vector values load into the registered types",
            first(obj_bad),
        )
        expect(
            out,
            spec.SSZ_STATIC,
            not root_bad,
            "hash_tree_root matches consensus-spec-tests",
            first(root_bad),
        )
        expect(
            out, spec.SSZ_STATIC, not trip_bad, "serialize/deserialize round trip", first(trip_bad)
        )

    def _json_problems(self, case: SszCase, value: dict[str, Any]) -> list[str]:
        """The target codec's JSON of a vector payload, judged by the spec schema and codec."""
        shape = PAYLOAD_SHAPE[case.fork]
        as_json = self.target.codec.encode_object(shape, oracle.engine_values(value))
        problems = self.schemas.validate_component(shape, as_json)
        try:
            back = from_engine_values(spec_codec.decode_object(shape, as_json))
            if oracle.hash_tree_root(case.fork, case.name, back, case.preset) != case.root():
                problems.append("decoded payload differs")
        except ValueError as exc:
            problems.append(str(exc))
        return problems

    def _check_payload(self, case: SszCase, bad: _Problems) -> None:
        types, label = self.target.types, f"{case.fork}/{case.path.name}"
        value = case.value()
        problems = self._json_problems(case, value)
        if problems:
            bad.json.append(f"{label}: {first(problems, 2)}")
        view = types.from_obj(case.fork, "ExecutionPayload", value, case.preset)
        header = types.to_obj(types.payload_to_header(view))
        if header != oracle.header_of(case.fork, value, case.preset):
            bad.header.append(label)
        if case.fork == "bellatrix":
            spec_header = oracle.header_of("bellatrix", value, case.preset)
            for newer in ("capella", "deneb"):
                up = types.convert_fork(view, newer)
                want = oracle.upgrade_obj("ExecutionPayload", value, newer, case.preset)
                if types.to_obj(up) != want:
                    bad.upgrade.append(f"{label}->{newer}: not the spec's upgrade")
                if types.to_obj(types.convert_fork(up, "bellatrix")) != value:
                    bad.upgrade.append(f"{label}->{newer}->bellatrix")
                want_h = oracle.upgrade_obj(
                    "ExecutionPayloadHeader", spec_header, newer, case.preset
                )
                if types.to_obj(types.payload_to_header(up)) != want_h:
                    bad.upgrade.append(f"{label}: header of upgrade != upgraded header")
        elif value.get("withdrawals"):
            try:
                types.convert_fork(view, "bellatrix")
                bad.refuse.append(label)
            except ValueError:
                pass

    @harness_test("type_compatibility")
    async def test_cross_fork_conversion(self, out: Outcome) -> None:
        """Payload->header, fork upgrade/downgrade, and SSZ <-> Engine JSON for every payload."""
        payloads = [c for c in ssz_cases(self.vectors_dir) if c.name == "ExecutionPayload"]
        require(out, spec.SSZ_STATIC, bool(payloads), "payload vectors present")
        bad = _Problems()
        for case in payloads:
            try:
                self._check_payload(case, bad)
            except (ValueError, TypeError, AttributeError) as exc:
                bad.upgrade.append(f"{case.label}: conversion raised {type(exc).__name__}: {exc}")
        out.record(payload_cases=len(payloads))
        expect(
            out,
            spec.PARIS_PAYLOAD,
            not bad.json,
            "engine JSON codec preserves every payload field",
            first(bad.json),
        )
        expect(
            out,
            spec.BELLATRIX_HEADER,
            not bad.header,
            "payload_to_header commits to transactions",
            first(bad.header),
        )
        expect(
            out,
            spec.CAPELLA_UPGRADE,
            not bad.upgrade,
            "fork upgrade is lossless and commutes",
            first(bad.upgrade),
        )
        expect(
            out,
            spec.CAPELLA_UPGRADE,
            not bad.refuse,
            "downgrade refuses to drop withdrawals",
            first(bad.refuse),
        )
