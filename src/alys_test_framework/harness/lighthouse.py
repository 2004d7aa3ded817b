"""LighthouseCompatHarness: consensus types and the Engine API stay compatible across versions.

Every verdict comes from the real target: SSZ roots against consensus-spec-tests vectors,
recorded real-client exchanges re-encoded by the target's codec, and a live Engine API endpoint
(embedded by default) driven exactly as a consensus client drives it, each exchange validated
against the execution-apis OpenRPC schemas.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import jwt as pyjwt
import yaml

from alys_node.engine import codec as engine_codec
from alys_node.engine.blockhash import compute_block_hash
from alys_node.engine.client import EngineRpcError
from alys_node.engine.conformance import ExchangeChecker, check_recorded, load_recorded
from alys_node.engine.driver import VERSION, ZERO32, EngineDriver
from alys_node.engine.jwt_auth import make_token
from alys_node.engine.schema import schemas
from alys_node.engine.state import ForkSchedule

from ..targets.engine_target import GENESIS_TIME, SLOT_S, EngineSession, EngineTarget
from .base import BaseHarness, HarnessContext, Outcome, harness_test

PAYLOAD_SHAPE = {"bellatrix": "ExecutionPayloadV1", "capella": "ExecutionPayloadV2"}
PAYLOAD_SHAPE["deneb"] = "ExecutionPayloadV3"
REQUIRED_METHODS = [
    f"engine_{m}V{v}" for m in ("newPayload", "forkchoiceUpdated", "getPayload") for v in (1, 2, 3)
]


# consensus-spec-tests / execution-apis vectors (CC0) ship inside the package, so an installed
# framework can judge a target without the repository around it
PACKAGED_VECTORS = Path(__file__).resolve().parents[1] / "data" / "lighthouse"


def find_vectors(config_dir: Path | None = None) -> Path | None:
    """The conformance vectors: $ALYS_LIGHTHOUSE_VECTORS, <test_data_dir>/lighthouse, packaged."""
    candidates = []
    if os.environ.get("ALYS_LIGHTHOUSE_VECTORS"):
        candidates.append(Path(os.environ["ALYS_LIGHTHOUSE_VECTORS"]))
    if config_dir is not None:
        candidates.append(config_dir / "lighthouse")
    candidates.append(PACKAGED_VECTORS)
    for c in candidates:
        if (c / "ssz").is_dir():
            return c
    return None


def _fork_of_fields(payload: dict[str, Any]) -> str:
    if "blobGasUsed" in payload:
        return "deneb"
    return "capella" if "withdrawals" in payload else "bellatrix"


def _first(items: list[str], n: int = 3) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return "; ".join(items[:n]) + more


class LighthouseCompatHarness(BaseHarness):
    name: ClassVar[str] = "lighthouse"
    categories: ClassVar[tuple[str, ...]] = (
        "api_compatibility",
        "type_compatibility",
        "consensus_integration",
        "authentication",
    )

    def __init__(
        self,
        ctx: HarnessContext,
        target: EngineTarget | None = None,
        vectors_dir: Path | None = None,
    ) -> None:
        super().__init__(ctx)
        lh = ctx.config.lighthouse
        self.lh = lh
        self.target = target or EngineTarget.from_config(lh)
        self.vectors_dir = vectors_dir or find_vectors(ctx.config.test_data_dir)
        self.schedule = EngineTarget.schedule_for(lh.capella_block, lh.deneb_block)
        # short schedule for API/validation tests: every fork within a handful of blocks
        self.compact = self.schedule if self.target.external else EngineTarget.schedule_for(2, 4)
        self.schemas = schemas()

    # -- lifecycle -------------------------------------------------------------------------
    async def health_check(self) -> bool:
        try:
            async with self.target.session(self.compact) as s:
                caps = await s.client.call("engine_exchangeCapabilities", [REQUIRED_METHODS])
                return isinstance(caps, list)
        except Exception:
            return False

    def _genesis(self, s: EngineSession) -> str | None:
        if s.embedded is not None:
            return "0x" + s.embedded.state.genesis_hash.hex()
        # an external EL's genesis is not discoverable through the Engine API itself
        return getattr(self.lh, "genesis_block_hash", None) or os.environ.get(
            "ALYS_ENGINE_GENESIS_HASH"
        )

    def _driver(self, s: EngineSession) -> tuple[EngineDriver, ExchangeChecker]:
        checker = ExchangeChecker(self.target.codec, self.schemas)
        return EngineDriver(s.client, s.schedule, checker), checker

    def _expect_conforming(self, out: Outcome, checker: ExchangeChecker) -> None:
        out.record(exchanges=checker.exchanges, methods_exercised=sorted(checker.methods))
        out.expect(
            not checker.request_violations,
            "requests conform to the OpenRPC schemas",
            _first(checker.request_violations),
        )
        out.expect(
            not checker.response_violations,
            "responses match the method version's schema",
            _first(checker.response_violations),
        )

    # -- api_compatibility -----------------------------------------------------------------
    @harness_test("api_compatibility")
    async def test_recorded_exchanges(self, out: Outcome) -> None:
        """Recorded real-client exchanges parse and re-encode canonically with the target codec."""
        root = self.vectors_dir / "engine_io" if self.vectors_dir else None
        recorded = load_recorded(root) if root and root.is_dir() else []
        out.require(bool(recorded), "recorded exchanges present", f"none under {root}")
        problems: list[str] = []
        for ex in recorded:
            problems += check_recorded(ex, self.target.codec, self.schemas)
        out.record(recorded_exchanges=len(recorded))
        out.expect(not problems, "recorded exchanges re-encode canonically", _first(problems))

    @harness_test("api_compatibility")
    async def test_every_method_and_version(self, out: Outcome) -> None:
        """Drive every method and version through all three forks; validate each exchange."""
        async with self.target.session(self.compact) as s:
            driver, checker = self._driver(s)
            caps = await driver.call("engine_exchangeCapabilities", [REQUIRED_METHODS])
            missing = sorted(set(REQUIRED_METHODS) - set(caps))
            out.expect(not missing, "exchangeCapabilities lists every method", f"missing {missing}")
            head = self._genesis(s)
            if head is None:
                out.skip("external endpoint: set ALYS_ENGINE_GENESIS_HASH to drive block building")
            deneb_n = (s.schedule.deneb_time - GENESIS_TIME) // SLOT_S
            forks_seen: dict[str, int] = {}
            hashes = []
            for n in range(1, max(deneb_n, 1) + 2):
                ts = GENESIS_TIME + n * SLOT_S
                try:
                    got = await driver.produce(head, ts, prev_randao="0x" + f"{n:064x}")
                except EngineRpcError as exc:
                    fork = s.schedule.fork_at(ts)
                    out.expect(False, f"block production through V{VERSION[fork]}", str(exc))
                    break
                out.expect(
                    got.status["status"] == "VALID",
                    f"newPayloadV{VERSION[got.fork]} accepts a built payload",
                    str(got.status),
                )
                forks_seen[got.fork] = forks_seen.get(got.fork, 0) + 1
                head = got.block_hash
                hashes.append(head)
            # V1 forkchoiceUpdated without attributes is valid at any fork; then the bodies methods
            await driver.forkchoice(head, version=1)
            bodies = await driver.call("engine_getPayloadBodiesByHashV1", [hashes[:3]])
            out.expect(len(bodies) == 3 and all(bodies), "getPayloadBodiesByHashV1 finds blocks")
            rng = await driver.call("engine_getPayloadBodiesByRangeV1", ["0x1", hex(len(hashes))])
            out.expect(len(rng) == len(hashes), "getPayloadBodiesByRangeV1 returns the range")
            out.record(forks_seen=forks_seen)
            out.expect(
                set(forks_seen) == {"bellatrix", "capella", "deneb"},
                "all three forks exercised",
                str(forks_seen),
            )
            self._expect_conforming(out, checker)

    @harness_test("api_compatibility")
    async def test_error_codes(self, out: Outcome) -> None:
        """Spec error codes for unsupported versions, bad params and each -380xx condition."""
        async with self.target.session(self.compact) as s:
            head = self._genesis(s)
            if head is None:
                out.skip("external endpoint: set ALYS_ENGINE_GENESIS_HASH")
            sched: ForkSchedule = s.schedule
            fcs = {"headBlockHash": head, "safeBlockHash": head, "finalizedBlockHash": ZERO32}
            attrs1 = {
                "timestamp": hex(GENESIS_TIME + SLOT_S),
                "prevRandao": ZERO32,
                "suggestedFeeRecipient": "0x" + "00" * 20,
            }
            stale = dict(attrs1, timestamp=hex(GENESIS_TIME))
            deneb_attrs = dict(attrs1, withdrawals=[], parentBeaconBlockRoot=ZERO32)
            bad_state = dict(fcs, finalizedBlockHash="0x" + "ee" * 32)
            v_early = VERSION[sched.fork_at(GENESIS_TIME + SLOT_S)]
            cases: list[tuple[str, str, list[Any], int]] = [
                ("unsupported version", "engine_newPayloadV9", [{}], -32601),
                (
                    "malformed hash",
                    "engine_forkchoiceUpdatedV1",
                    [dict(fcs, headBlockHash="0x12")],
                    -32602,
                ),
                ("wrong param count", "engine_getPayloadV1", [], -32602),
                ("missing payload field", "engine_newPayloadV1", [{"parentHash": head}], -32602),
                ("unknown payload id", "engine_getPayloadV1", ["0x00000000000000ff"], -38001),
                (
                    "finalized not an ancestor",
                    "engine_forkchoiceUpdatedV1",
                    [bad_state, None],
                    -38002,
                ),
                (
                    "stale attribute timestamp",
                    f"engine_forkchoiceUpdatedV{v_early}",
                    [fcs, stale],
                    -38003,
                ),
                ("too many bodies", "engine_getPayloadBodiesByRangeV1", ["0x1", hex(1025)], -38004),
            ]
            if v_early < 3:
                cases.append(
                    (
                        "V3 attributes before deneb",
                        "engine_forkchoiceUpdatedV3",
                        [fcs, deneb_attrs],
                        -38005,
                    )
                )
            checker = ExchangeChecker(self.target.codec, self.schemas)
            seen = {}
            for label, method, params, code in cases:
                resp = await s.client.request(method, params)
                checker(method, params, resp)
                got = (
                    resp.get("error", {}).get("code")
                    if isinstance(resp.get("error"), dict)
                    else None
                )
                seen[label] = got
                out.expect(got == code, f"{label} answers {code}", f"got {got}: {resp!r:.200}")
            out.record(error_codes=seen)
            out.expect(
                not checker.response_violations,
                "error responses are well-formed",
                _first(checker.response_violations),
            )

    # -- type_compatibility ----------------------------------------------------------------
    def _ssz_cases(self) -> list[tuple[str, str, str, Path]]:
        root = self.vectors_dir / "ssz" if self.vectors_dir else None
        if root is None or not root.is_dir():
            return []
        out = []
        for case in sorted(root.glob("*/*/*")):
            if (case / "value.yaml").is_file():
                fork, name, cname = case.parts[-3:]
                out.append(
                    (fork, name, "minimal" if cname.startswith("minimal_") else "mainnet", case)
                )
        return out

    @harness_test("type_compatibility")
    async def test_ssz_static_vectors(self, out: Outcome) -> None:
        """Every consensus-spec-tests case: hash_tree_root and serialize/deserialize round trip."""
        cases = self._ssz_cases()
        out.require(bool(cases), "SSZ vectors present", f"none under {self.vectors_dir}")
        types = self.target.types
        root_bad, trip_bad, obj_bad = [], [], []
        for fork, name, preset, case in cases:
            value = yaml.safe_load((case / "value.yaml").read_text())
            expected = yaml.safe_load((case / "roots.yaml").read_text())["root"]
            label = f"{fork}/{name}/{case.name}"
            try:
                view = types.from_obj(fork, name, value, preset)
            except ValueError as exc:
                obj_bad.append(f"{label}: {exc}")
                continue
            got = "0x" + types.hash_tree_root(view).hex()
            if got != expected:
                root_bad.append(f"{label}: {got[:18]}.. != {expected[:18]}..")
            again = types.deserialize(fork, name, types.serialize(view), preset)
            if (
                types.hash_tree_root(again) != types.hash_tree_root(view)
                or types.to_obj(again) != value
            ):
                trip_bad.append(label)
        out.record(ssz_cases=len(cases))
        out.expect(not obj_bad, "vector values load into the registered types", _first(obj_bad))
        out.expect(not root_bad, "hash_tree_root matches consensus-spec-tests", _first(root_bad))
        out.expect(not trip_bad, "serialize/deserialize round trip", _first(trip_bad))

    def _check_payload_case(
        self,
        fork: str,
        preset: str,
        case: Path,
        label: str,
        json_bad: list[str],
        header_bad: list[str],
        upgrade_bad: list[str],
        refuse_bad: list[str],
    ) -> None:
        types, codec = self.target.types, self.target.codec
        view = types.from_obj(
            fork, "ExecutionPayload", yaml.safe_load((case / "value.yaml").read_text()), preset
        )
        shape = PAYLOAD_SHAPE[fork]
        as_json = codec.encode_object(shape, engine_codec.payload_from_ssz(view))
        problems = self.schemas.validate_component(shape, as_json)
        try:
            back = types.from_obj(
                fork, "ExecutionPayload", codec.decode_object(shape, as_json), preset
            )
            if types.hash_tree_root(back) != types.hash_tree_root(view):
                problems.append("decoded payload differs")
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            json_bad.append(f"{label}: {_first(problems, 2)}")
        header = types.payload_to_header(view)
        if bytes(header.transactions_root) != types.hash_tree_root(view.transactions):
            header_bad.append(label)
        if fork == "bellatrix":
            for newer in ("capella", "deneb"):
                up = types.convert_fork(view, newer)
                if types.convert_fork(up, "bellatrix") != view:
                    upgrade_bad.append(f"{label}->{newer}->bellatrix")
                if types.payload_to_header(up) != types.convert_fork(header, newer):
                    upgrade_bad.append(f"{label}: header of upgrade != upgraded header")
        elif len(view.withdrawals):
            try:
                types.convert_fork(view, "bellatrix")
                refuse_bad.append(label)
            except ValueError:
                pass

    @harness_test("type_compatibility")
    async def test_cross_fork_conversion(self, out: Outcome) -> None:
        """Payload->header, fork upgrade/downgrade, and SSZ <-> Engine JSON for every payload."""
        payloads = [c for c in self._ssz_cases() if c[1] == "ExecutionPayload"]
        out.require(bool(payloads), "payload vectors present")
        json_bad, header_bad, upgrade_bad, refuse_bad = [], [], [], []
        for fork, _name, preset, case in payloads:
            label = f"{fork}/{case.name}"
            try:
                self._check_payload_case(
                    fork, preset, case, label, json_bad, header_bad, upgrade_bad, refuse_bad
                )
            except (ValueError, TypeError, AttributeError) as exc:
                upgrade_bad.append(f"{label}: conversion raised {type(exc).__name__}: {exc}")
        out.record(payload_cases=len(payloads))
        out.expect(
            not json_bad, "engine JSON codec preserves every payload field", _first(json_bad)
        )
        out.expect(not header_bad, "payload_to_header commits to transactions", _first(header_bad))
        out.expect(not upgrade_bad, "fork upgrade is lossless and commutes", _first(upgrade_bad))
        out.expect(not refuse_bad, "downgrade refuses to drop withdrawals", _first(refuse_bad))

    # -- consensus_integration -------------------------------------------------------------
    def _recompute_hash(self, payload: dict, fork: str, beacon_root: str | None) -> str:
        shape = PAYLOAD_SHAPE[fork]
        view = self.target.types.from_obj(
            fork,
            "ExecutionPayload",
            self.target.codec.decode_object(shape, payload),
            self.target.preset,
        )
        root = bytes.fromhex(beacon_root[2:]) if beacon_root else None
        return "0x" + compute_block_hash(view, root).hex()

    def _rehash(self, payload: dict, fork: str, beacon_root: str | None, **changes: Any) -> dict:
        """A copy of ``payload`` with ``changes`` and a correct blockHash."""
        p = dict(payload, **changes)
        p["blockHash"] = self._recompute_hash(p, fork, beacon_root)
        return p

    @harness_test("consensus_integration")
    async def test_block_production(self, out: Outcome) -> None:
        """lighthouse.blocks blocks end to end; forks switch exactly at the configured blocks."""
        async with self.target.session(self.schedule) as s:
            driver, checker = self._driver(s)
            head = self._genesis(s)
            if head is None:
                out.skip("external endpoint: set ALYS_ENGINE_GENESIS_HASH")
            rng = self.ctx.rng("lighthouse-blocks")
            first: dict[str, int] = {}
            bad_status, bad_hash, bad_shape, bad_link = [], [], [], []
            latencies = []
            start = time.perf_counter()
            for n in range(1, self.lh.blocks + 1):
                ts = GENESIS_TIME + n * SLOT_S
                withdrawals = [
                    {
                        "index": hex(n * 4 + i),
                        "validatorIndex": hex(rng.randrange(1 << 20)),
                        "address": "0x" + rng.randbytes(20).hex(),
                        "amount": hex(rng.randrange(1, 1 << 40)),
                    }
                    for i in range(rng.randrange(0, 3))
                ]
                t0 = time.perf_counter()
                try:
                    got = await driver.produce(
                        head,
                        ts,
                        prev_randao="0x" + rng.randbytes(32).hex(),
                        fee_recipient="0x" + rng.randbytes(20).hex(),
                        withdrawals=withdrawals,
                    )
                except EngineRpcError as exc:
                    bad_status.append(f"block {n}: {exc}")
                    break
                latencies.append(time.perf_counter() - t0)
                p = got.payload
                first.setdefault(_fork_of_fields(p), n)  # measured from the EL's payload
                if (
                    got.status["status"] != "VALID"
                    or got.status.get("latestValidHash") != p["blockHash"]
                ):
                    bad_status.append(f"block {n}: {got.status}")
                if (
                    self._recompute_hash(p, got.fork, got.parent_beacon_block_root)
                    != p["blockHash"]
                ):
                    bad_hash.append(f"block {n}")
                fields = set(p)
                want_w = got.fork != "bellatrix"
                if ("withdrawals" in fields) != want_w or ("blobGasUsed" in fields) != (
                    got.fork == "deneb"
                ):
                    bad_shape.append(f"block {n} ({got.fork}): fields {sorted(fields)}")
                if want_w and p["withdrawals"] != withdrawals:
                    bad_shape.append(f"block {n}: withdrawals differ from the attributes")
                if (
                    p["parentHash"] != head
                    or int(p["blockNumber"], 16) != n
                    or int(p["timestamp"], 16) != ts
                ):
                    bad_link.append(f"block {n}")
                head = p["blockHash"]
            elapsed = time.perf_counter() - start
            latencies = sorted(latencies) or [0.0]
            out.record(
                blocks=self.lh.blocks,
                blocks_per_s=round(self.lh.blocks / elapsed, 1),
                block_p50_ms=round(latencies[len(latencies) // 2] * 1000, 2),
                block_p99_ms=round(
                    latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2
                ),
                first_block_of_fork=first,
            )
            out.expect(not bad_status, "every produced block is VALID", _first(bad_status))
            out.expect(
                not bad_hash, "blockHash recomputes from the payload (RLP+keccak)", _first(bad_hash)
            )
            out.expect(not bad_shape, "payload fields match the fork", _first(bad_shape))
            out.expect(
                not bad_link, "blocks chain by parent, number and timestamp", _first(bad_link)
            )
            expected: dict[str, int] = {}
            for n in range(1, self.lh.blocks + 1):  # what the configured fork points imply
                expected.setdefault(s.schedule.fork_at(GENESIS_TIME + n * SLOT_S), n)
            got_first = first
            out.expect(
                got_first == expected,
                "fork transitions at the configured blocks",
                f"{got_first} != {expected}",
            )
            self._expect_conforming(out, checker)

    @harness_test("consensus_integration")
    async def test_payload_validation(self, out: Outcome) -> None:
        """newPayload: wrong hash INVALID, unknown parent SYNCING, stale timestamp INVALID."""
        async with self.target.session(self.compact) as s:
            driver, checker = self._driver(s)
            head = self._genesis(s)
            if head is None:
                out.skip("external endpoint: set ALYS_ENGINE_GENESIS_HASH")
            made = [await driver.produce(head, GENESIS_TIME + SLOT_S)]
            made.append(await driver.produce(made[0].block_hash, GENESIS_TIME + 2 * SLOT_S))
            # a payload built on the head but not imported yet
            ts = GENESIS_TIME + 3 * SLOT_S
            version, attrs = driver.attributes(
                ts, "0x" + "aa" * 32, "0x" + "bb" * 20, [], "0x" + "cc" * 32
            )
            fcu = await driver.forkchoice(made[-1].block_hash, attrs=attrs, version=version)
            fresh = await driver.get_payload(version, fcu["payloadId"])
            fork = s.schedule.fork_at(ts)
            root = "0x" + "cc" * 32 if fork == "deneb" else None

            async def status_of(payload: dict) -> str:
                try:
                    return (await driver.new_payload(version, payload, root))["status"]
                except EngineRpcError as exc:
                    return f"error {exc.code}"

            wrong = dict(fresh, blockHash="0x" + "5a" * 32)
            tampered = dict(fresh, stateRoot="0x" + "77" * 32)  # blockHash no longer matches
            got_wrong, got_tampered = await status_of(wrong), await status_of(tampered)
            out.expect(
                got_wrong in ("INVALID", "INVALID_BLOCK_HASH")
                and got_tampered in ("INVALID", "INVALID_BLOCK_HASH"),
                "newPayload rejects a wrong block hash",
                f"random hash -> {got_wrong}, tampered field -> {got_tampered}",
            )
            orphan = self._rehash(fresh, fork, root, parentHash="0x" + "13" * 32)
            got_orphan = await status_of(orphan)
            out.expect(got_orphan == "SYNCING", "unknown parent answers SYNCING", got_orphan)
            child = self._rehash(
                fresh,
                fork,
                root,
                parentHash=orphan["blockHash"],
                blockNumber=hex(int(fresh["blockNumber"], 16) + 1),
                timestamp=hex(ts + 1),
            )
            got_child = await status_of(child)
            out.expect(
                got_child in ("ACCEPTED", "SYNCING"),
                "child of an unvalidated block is ACCEPTED/SYNCING",
                got_child,
            )
            stale = self._rehash(fresh, fork, root, timestamp=made[-1].payload["timestamp"])
            got_stale = await status_of(stale)
            out.expect(got_stale == "INVALID", "non-increasing timestamp is INVALID", got_stale)
            got_ok = await status_of(fresh)
            out.expect(got_ok == "VALID", "the untouched payload is VALID", got_ok)
            self._expect_conforming(out, checker)

    @harness_test("consensus_integration")
    async def test_reorg(self, out: Outcome) -> None:
        """A side chain imported by newPayload becomes head through forkchoiceUpdated, and back."""
        async with self.target.session(self.compact) as s:
            driver, checker = self._driver(s)
            head = self._genesis(s)
            if head is None:
                out.skip("external endpoint: set ALYS_ENGINE_GENESIS_HASH")
            main = []
            for n in range(1, 6):
                main.append(await driver.produce(head, GENESIS_TIME + n * SLOT_S))
                head = main[-1].block_hash
            side, parent = [], main[1].block_hash  # fork after block 2: side blocks 3..6
            for i, base in enumerate(main[2:] + [None]):
                n = 3 + i
                src = base or main[-1]
                ts = GENESIS_TIME + n * SLOT_S
                p = self._rehash(
                    src.payload,
                    src.fork,
                    src.parent_beacon_block_root,
                    parentHash=parent,
                    extraData="0x" + b"side".hex(),
                    blockNumber=hex(n),
                    timestamp=hex(ts),
                )
                if s.schedule.fork_at(ts) != src.fork:
                    out.require(False, "side chain stays within one fork", f"block {n}")
                st = await driver.new_payload(VERSION[src.fork], p, src.parent_beacon_block_root)
                out.expect(
                    st["status"] == "VALID", "side-chain payload is VALID", f"block {n}: {st}"
                )
                side.append(p)
                parent = p["blockHash"]
            fcu = await driver.forkchoice(
                parent, version=VERSION[s.schedule.fork_at(int(side[-1]["timestamp"], 16))]
            )
            out.expect(
                fcu["payloadStatus"]["status"] == "VALID",
                "forkchoiceUpdated to the side chain is VALID",
                str(fcu),
            )
            nxt = await driver.produce(
                parent, int(side[-1]["timestamp"], 16) + SLOT_S, set_head=False
            )
            out.expect(
                nxt.payload["parentHash"] == parent and nxt.status["status"] == "VALID",
                "payload after the reorg builds on the new head",
                f"parent {nxt.payload['parentHash'][:18]}.., status {nxt.status['status']}",
            )
            back = await driver.produce(
                head, GENESIS_TIME + 6 * SLOT_S, prev_randao="0x" + "01" * 32
            )
            out.expect(
                back.payload["parentHash"] == head and back.status["status"] == "VALID",
                "reorg back to the original chain",
                str(back.status),
            )
            if s.embedded is not None:
                out.record(reorg_depths=[r["depth"] for r in s.embedded.state.reorgs])
            self._expect_conforming(out, checker)

    # -- authentication --------------------------------------------------------------------
    @harness_test("authentication")
    async def test_jwt_authentication(self, out: Outcome) -> None:
        """Missing, expired, future, wrong-key and unsigned tokens get 401; fresh ones 200."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "engine_exchangeCapabilities", "params": [[]]}
        async with self.target.session(self.compact) as s:
            now = time.time()
            other = bytes(b ^ 0xFF for b in s.secret)

            cases: list[tuple[str, str | None, int]] = [
                ("fresh JWT accepted", make_token(s.secret), 200),
                ("JWT 30 s old accepted", make_token(s.secret, iat=now - 30), 200),
                ("missing JWT refused", None, 401),
                ("expired JWT refused (iat -120 s)", make_token(s.secret, iat=now - 120), 401),
                ("future JWT refused (iat +120 s)", make_token(s.secret, iat=now + 120), 401),
                ("wrong-key JWT refused", make_token(other), 401),
                (
                    "unsigned JWT refused",
                    pyjwt.encode({"iat": int(now)}, None, algorithm="none"),
                    401,
                ),
                ("garbage token refused", "not.a.jwt", 401),
            ]
            codes = {}
            for label, token, want in cases:
                status, _ = await s.client.post(body, token=token)
                codes[label] = status
                out.expect(status == want, label, f"HTTP {status}, expected {want}")
            out.record(http_status=codes)
