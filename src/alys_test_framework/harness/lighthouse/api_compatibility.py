"""api_compatibility: recorded exchanges, every method and version, and the spec's error codes."""

from __future__ import annotations

from typing import Any

from ...oracles.engine import spec
from ...oracles.engine.blockhash import payload_block_hash
from ...oracles.engine.conformance import check_recorded, load_recorded
from ...oracles.engine.forks import SLOT_S, VERSION
from ..base import Outcome, harness_test
from .kit import REQUIRED_METHODS, ZERO32, EngineCallError, LighthouseBase, expect, first, require


def _error_code(resp: dict[str, Any]) -> int | None:
    err = resp.get("error")
    return err.get("code") if isinstance(err, dict) else None


class ApiCompatibility(LighthouseBase):
    @harness_test("api_compatibility")
    async def test_recorded_exchanges(self, out: Outcome) -> None:
        """Recorded real-client exchanges parse and re-encode canonically with the target codec."""
        root = self.vectors_dir / "engine_io" if self.vectors_dir else None
        recorded = load_recorded(root) if root and root.is_dir() else []
        require(
            out, spec.OPENRPC, bool(recorded), "recorded exchanges present", f"none under {root}"
        )
        problems: list[str] = []
        for ex in recorded:
            problems += check_recorded(ex, self.target.codec, self.schemas)
        out.record(recorded_exchanges=len(recorded))
        expect(
            out,
            spec.OPENRPC,
            not problems,
            "recorded exchanges re-encode canonically",
            first(problems),
        )

    @harness_test("api_compatibility")
    async def test_every_method_and_version(self, out: Outcome) -> None:
        """Drive every method and version through all three forks; validate each exchange."""
        async with self.target.session(self.compact) as s:
            driver, checker = self.driver(s)
            caps = await driver.call("engine_exchangeCapabilities", [REQUIRED_METHODS])
            missing = sorted(set(REQUIRED_METHODS) - set(caps or []))
            expect(
                out,
                spec.COMMON_CAPABILITIES,
                not missing,
                "exchangeCapabilities lists every method",
                f"missing {missing}",
            )
            anchor = await self.start_branch(s, driver, out, "test_every_method_and_version")
            made = [anchor]
            deneb_n = (s.schedule.deneb_time - s.schedule.genesis_time) // SLOT_S
            for n in range(2, max(deneb_n, 1) + 2):
                ts = s.schedule.block_time(n)
                try:
                    got = await driver.produce(made[-1].block_hash, ts, prev_randao=f"0x{n:064x}")
                except EngineCallError as exc:
                    fork = s.schedule.fork_at(ts)
                    expect(
                        out,
                        spec.PARIS_FORKCHOICE,
                        False,
                        f"block production through V{VERSION[fork]}",
                        str(exc),
                    )
                    break
                expect(
                    out,
                    spec.PARIS_NEW_PAYLOAD,
                    got.status["status"] == "VALID",
                    f"newPayloadV{VERSION[got.fork]} accepts a built payload",
                    str(got.status),
                )
                made.append(got)
            forks_seen: dict[str, int] = {}
            for p in made:
                forks_seen[p.fork] = forks_seen.get(p.fork, 0) + 1
            # V1 forkchoiceUpdated without attributes is valid at any fork; then the bodies methods
            await driver.forkchoice(made[-1].block_hash, version=1)
            self._check_bodies(out, await self._bodies(driver, made))
            out.record(forks_seen=forks_seen)
            expect(
                out,
                spec.CANCUN_PAYLOAD,
                set(forks_seen) == {"bellatrix", "capella", "deneb"},
                "all three forks exercised",
                str(forks_seen),
            )
            self.expect_conforming(out, checker)

    async def _bodies(self, driver: Any, made: list[Any]) -> dict[str, Any]:
        by_hash = await driver.call(
            "engine_getPayloadBodiesByHashV1", [[p.block_hash for p in made[:3]]]
        )
        count = min(len(made), spec.MIN_BODIES_BY_RANGE)  # the spec guarantees 32, no more
        by_range = await driver.call("engine_getPayloadBodiesByRangeV1", ["0x1", hex(count)])
        return {"made": made, "by_hash": by_hash, "by_range": by_range, "count": count}

    def _check_bodies(self, out: Outcome, got: dict[str, Any]) -> None:
        made = got["made"]

        def body_of(p: Any) -> dict[str, Any]:
            return {
                "transactions": p.payload["transactions"],
                "withdrawals": p.payload.get("withdrawals"),
            }

        by_hash, by_range = got["by_hash"] or [], got["by_range"] or []
        expect(
            out,
            spec.SHANGHAI_BODIES_BY_HASH,
            by_hash == [body_of(p) for p in made[:3]],
            "getPayloadBodiesByHashV1 returns each block's transactions and withdrawals",
            f"{str(by_hash)[:160]}",
        )
        expect(
            out,
            spec.SHANGHAI_BODIES_BY_RANGE,
            by_range == [body_of(p) for p in made[: got["count"]]],
            "getPayloadBodiesByRangeV1 returns the canonical range",
            f"asked {got['count']} from 1, got {len(by_range)}",
        )

    @harness_test("api_compatibility")
    async def test_error_codes(self, out: Outcome) -> None:
        """Spec error codes for unsupported versions, bad params and each -380xx condition."""
        async with self.target.session(self.compact) as s:
            driver, checker = self.driver(s)
            anchor = await self.start_branch(s, driver, out, "test_error_codes")
            head = anchor.block_hash
            fcs = {"headBlockHash": head, "safeBlockHash": head, "finalizedBlockHash": ZERO32}
            next_ts = s.schedule.block_time(2)
            attrs1 = {
                "timestamp": hex(next_ts),
                "prevRandao": ZERO32,
                "suggestedFeeRecipient": "0x" + "00" * 20,
            }
            # not after the head's timestamp, shaped for that timestamp's fork
            v_stale = VERSION[s.schedule.fork_at(anchor.timestamp)]
            stale = self._attrs_for(dict(attrs1, timestamp=hex(anchor.timestamp)), v_stale)
            deneb_attrs = dict(attrs1, withdrawals=[], parentBeaconBlockRoot=ZERO32)
            bad_state = dict(fcs, finalizedBlockHash="0x" + "ee" * 32)
            v_next = VERSION[s.schedule.fork_at(next_ts)]
            cases: list[tuple[str, str, str, list[Any], int]] = [
                ("unsupported version", spec.COMMON_ERRORS, "engine_newPayloadV9", [{}], -32601),
                (
                    "malformed hash",
                    spec.COMMON_ERRORS,
                    "engine_forkchoiceUpdatedV1",
                    [dict(fcs, headBlockHash="0x12")],
                    -32602,
                ),
                ("wrong param count", spec.COMMON_ERRORS, "engine_getPayloadV1", [], -32602),
                (
                    "unknown payload id",
                    spec.PARIS_GET_PAYLOAD,
                    "engine_getPayloadV1",
                    ["0x00000000000000ff"],
                    spec.UNKNOWN_PAYLOAD,
                ),
                (
                    "finalized not an ancestor",
                    spec.PARIS_FORKCHOICE,
                    "engine_forkchoiceUpdatedV1",
                    [bad_state, None],
                    spec.INVALID_FORKCHOICE_STATE,
                ),
                (
                    "safe not an ancestor",
                    spec.PARIS_FORKCHOICE,
                    "engine_forkchoiceUpdatedV1",
                    [dict(fcs, safeBlockHash="0x" + "ee" * 32), None],
                    spec.INVALID_FORKCHOICE_STATE,
                ),
                (
                    "QUANTITY with a leading zero",
                    spec.COMMON_ENCODING,
                    "engine_getPayloadBodiesByRangeV1",
                    ["0x01", "0x1"],
                    spec.INVALID_PARAMS,
                ),
                (
                    "stale attribute timestamp",
                    spec.PARIS_FORKCHOICE,
                    f"engine_forkchoiceUpdatedV{v_stale}",
                    [fcs, stale],
                    spec.INVALID_PAYLOAD_ATTRIBUTES,
                ),
                (
                    "missing payload field",
                    spec.COMMON_ERRORS,
                    "engine_newPayloadV1",
                    [{"parentHash": head}],
                    -32602,
                ),
            ]
            if v_next < 3:
                cases.append(
                    (
                        "V3 attributes before deneb",
                        spec.CANCUN_FORKCHOICE,
                        "engine_forkchoiceUpdatedV3",
                        [fcs, deneb_attrs],
                        spec.UNSUPPORTED_FORK,
                    )
                )
            seen: dict[str, Any] = {}
            for label, section, method, params, code in cases:
                resp = await driver.request(method, params)
                got = _error_code(resp)
                seen[label] = got
                expect(
                    out,
                    section,
                    got == code,
                    f"{label} answers {code}",
                    f"got {got}: {resp!r:.200}",
                )
            seen["getPayloadV2 of a deneb build"] = await self._v2_of_deneb(out, driver, anchor)
            # "too large" is the client's to define above the 32 it must serve (shanghai.md)
            resp = await driver.request("engine_getPayloadBodiesByRangeV1", ["0x1", hex(1025)])
            seen["too many bodies"] = _error_code(resp) or "served"
            expect(
                out,
                spec.SHANGHAI_BODIES_BY_RANGE,
                _error_code(resp) == spec.TOO_LARGE_REQUEST or isinstance(resp.get("result"), list),
                "a range above the minimum answers -38004 or is served",
                f"{resp!r:.200}",
            )
            # a refused request changes nothing: the head still builds
            try:
                after = await driver.produce(head, next_ts, prev_randao="0x" + "0e" * 32)
                after_status = str(after.status.get("status"))
            except EngineCallError as exc:
                after_status = str(exc)
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                after_status == "VALID",
                "after the refused requests the head still builds a VALID block",
                after_status,
            )
            out.record(error_codes=seen)
            expect(
                out,
                spec.COMMON_ERRORS,
                not checker.response_violations,
                "error responses are well-formed",
                first(checker.response_violations),
            )

    async def _v2_of_deneb(self, out: Outcome, driver: Any, anchor: Any) -> Any:
        """getPayloadV2 can only carry V1/V2 payloads (shanghai.md): a deneb build asked for
        through it must be refused, not served without the fields its blockHash covers."""
        sched = driver.schedule
        ts = max(sched.deneb_time, anchor.timestamp + SLOT_S)
        _, attrs = driver.attributes(ts, "0x" + "0d" * 32, "0x" + "00" * 20, [], "0x" + "0b" * 32)
        fcu = await driver.forkchoice(anchor.block_hash, attrs=attrs, version=3)
        resp = await driver.request("engine_getPayloadV2", [fcu.get("payloadId")])
        code = _error_code(resp)
        served = (resp.get("result") or {}).get("executionPayload")
        hashes = False
        if isinstance(served, dict):
            try:
                hashes = payload_block_hash(served, None) == served.get("blockHash")
            except (KeyError, ValueError):
                hashes = False
        expect(
            out,
            spec.SHANGHAI_GET_PAYLOAD,
            code == spec.UNSUPPORTED_FORK or hashes,
            "getPayloadV2 of a deneb build answers -38005 (a V2 payload cannot hold it)",
            f"got {code or 'a payload whose blockHash does not recompute'}: {resp!r:.160}",
        )
        return code or "served"

    @staticmethod
    def _attrs_for(attrs: dict[str, Any], version: int) -> dict[str, Any]:
        """PayloadAttributesV<version> from V1 attributes."""
        if version == 1:
            return attrs
        out = dict(attrs, withdrawals=[])
        if version >= 3:
            out["parentBeaconBlockRoot"] = ZERO32
        return out
