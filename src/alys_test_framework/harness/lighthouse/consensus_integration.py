"""consensus_integration: block production across forks, payload validation and reorgs.

Every block is built through the client (forkchoiceUpdated with attributes, getPayload,
newPayload); block hashes are recomputed with the framework's RLP + keccak oracle. Only the
payload-validation test forges payloads, and only ones a correct client must refuse or hold
(wrong hash, unknown parent, stale timestamp), rehashed by the oracle.
"""

from __future__ import annotations

import time
from typing import Any

from ...oracles.engine import codec as spec_codec
from ...oracles.engine import spec
from ...oracles.engine.blockhash import payload_block_hash
from ...oracles.engine.forks import VERSION
from ..base import Outcome, harness_test
from .kit import (
    PAYLOAD_SHAPE,
    EngineCallError,
    EngineDriver,
    LighthouseBase,
    Produced,
    expect,
    first,
)


def _fork_of_fields(payload: dict[str, Any]) -> str:
    if "blobGasUsed" in payload:
        return "deneb"
    return "capella" if "withdrawals" in payload else "bellatrix"


def _rehash(payload: dict[str, Any], beacon_root: str | None, **changes: Any) -> dict[str, Any]:
    """A copy of ``payload`` with ``changes`` and the blockHash the oracle computes for it."""
    p = dict(payload, **changes)
    p["blockHash"] = payload_block_hash(p, beacon_root)
    return p


def _percentile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)


class _Production:
    def __init__(self) -> None:
        self.status: list[str] = []
        self.hash: list[str] = []
        self.shape: list[str] = []
        self.link: list[str] = []
        self.first: dict[str, int] = {}

    def check(self, n: int, got: Produced, parent: str, ts: int) -> None:
        p = got.payload
        self.first.setdefault(_fork_of_fields(p), n)  # measured from the EL's payload
        if (
            got.status.get("status") != "VALID"
            or got.status.get("latestValidHash") != p["blockHash"]
        ):
            self.status.append(f"block {n}: {got.status}")
        try:
            if payload_block_hash(p, got.parent_beacon_block_root) != p["blockHash"]:
                self.hash.append(f"block {n}")
        except (KeyError, ValueError) as exc:
            self.hash.append(f"block {n}: {exc}")
        try:
            spec_codec.decode_object(PAYLOAD_SHAPE[got.fork], p)
        except ValueError as exc:
            self.shape.append(f"block {n} ({got.fork}): {exc}")
        if got.fork != "bellatrix" and p.get("withdrawals") != got.withdrawals:
            self.shape.append(f"block {n}: withdrawals differ from the attributes")
        if p["parentHash"] != parent or got.number != n or got.timestamp != ts:
            self.link.append(f"block {n}")


class ConsensusIntegration(LighthouseBase):
    @harness_test("consensus_integration")
    async def test_block_production(self, out: Outcome) -> None:
        """lighthouse.blocks blocks end to end; forks switch exactly at the configured blocks."""
        async with self.target.session(self.schedule) as s:
            driver, checker = self.driver(s)
            anchor = await self.start_branch(s, driver, out, "test_block_production")
            rng = self.ctx.rng("lighthouse-blocks")
            seen = _Production()
            genesis = anchor.payload["parentHash"]
            seen.check(1, anchor, genesis, s.schedule.block_time(1))
            head, latencies = anchor.block_hash, []
            start = time.perf_counter()
            for n in range(2, self.lh.blocks + 1):
                ts = s.schedule.block_time(n)
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
                except EngineCallError as exc:
                    seen.status.append(f"block {n}: {exc}")
                    break
                latencies.append(time.perf_counter() - t0)
                seen.check(n, got, head, ts)
                head = got.block_hash
            elapsed = time.perf_counter() - start
            out.record(
                blocks=self.lh.blocks,
                blocks_per_s=round(max(self.lh.blocks - 1, 1) / max(elapsed, 1e-9), 1),
                block_p50_ms=_percentile_ms(latencies, 0.5),
                block_p99_ms=_percentile_ms(latencies, 0.99),
                first_block_of_fork=seen.first,
                last_block_hash=head,  # lets a reader walk the produced chain back on the client
            )
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                not seen.status,
                "every produced block is VALID",
                first(seen.status),
            )
            expect(
                out,
                spec.PARIS_BLOCK_HASH,
                not seen.hash,
                "blockHash recomputes from the payload (RLP+keccak)",
                first(seen.hash),
            )
            expect(
                out,
                spec.CANCUN_PAYLOAD,
                not seen.shape,
                "payload fields match the fork",
                first(seen.shape),
            )
            expect(
                out,
                spec.PARIS_PAYLOAD,
                not seen.link,
                "blocks chain by parent, number and timestamp",
                first(seen.link),
            )
            expected: dict[str, int] = {}
            for n in range(1, self.lh.blocks + 1):  # what the configured fork points imply
                expected.setdefault(s.schedule.fork_of_block(n), n)
            expect(
                out,
                spec.SHANGHAI_NEW_PAYLOAD,
                seen.first == expected,
                "fork transitions at the configured blocks",
                f"{seen.first} != {expected}",
            )
            self.expect_conforming(out, checker)

    @harness_test("consensus_integration")
    async def test_payload_validation(self, out: Outcome) -> None:
        """newPayload: wrong hash refused, unknown parent SYNCING, stale timestamp INVALID."""
        async with self.target.session(self.compact) as s:
            driver, checker = self.driver(s)
            anchor = await self.start_branch(s, driver, out, "test_payload_validation")
            second = await driver.produce(anchor.block_hash, s.schedule.block_time(2))
            ts = s.schedule.block_time(3)
            version, fresh, root, _ = await driver.build(
                second.block_hash, ts, "0x" + "aa" * 32, "0x" + "bb" * 20, [], "0x" + "cc" * 32
            )

            async def status_of(payload: dict[str, Any]) -> str:
                try:
                    return str((await driver.new_payload(version, payload, root))["status"])
                except EngineCallError as exc:
                    return f"error {exc.code}"

            # paris.md: V1 answers INVALID_BLOCK_HASH; shanghai.md: V2 on, INVALID supplants it
            refused = "INVALID_BLOCK_HASH" if version == 1 else "INVALID"
            section = spec.PARIS_NEW_PAYLOAD if version == 1 else spec.SHANGHAI_NEW_PAYLOAD
            wrong = dict(fresh, blockHash="0x" + "5a" * 32)
            tampered = dict(fresh, stateRoot="0x" + "77" * 32)  # blockHash no longer matches
            got_wrong, got_tampered = await status_of(wrong), await status_of(tampered)
            expect(
                out,
                section,
                got_wrong == refused and got_tampered == refused,
                "newPayload rejects a wrong block hash",
                f"V{version} should answer {refused}: random hash -> {got_wrong}, "
                f"tampered field -> {got_tampered}",
            )
            orphan = _rehash(fresh, root, parentHash="0x" + "13" * 32)
            got_orphan = await status_of(orphan)
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                got_orphan == "SYNCING",
                "unknown parent answers SYNCING",
                got_orphan,
            )
            child = _rehash(
                fresh,
                root,
                parentHash=orphan["blockHash"],
                blockNumber=hex(int(fresh["blockNumber"], 16) + 1),
                timestamp=hex(ts + 1),
            )
            got_child = await status_of(child)
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                got_child in ("ACCEPTED", "SYNCING"),
                "child of an unvalidated block is ACCEPTED/SYNCING",
                got_child,
            )
            stale = _rehash(fresh, root, timestamp=second.payload["timestamp"])
            got_stale = await status_of(stale)
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                got_stale == "INVALID",
                "non-increasing timestamp is INVALID",
                got_stale,
            )
            # paris.md payload validation: the EL's own rules (number = parent + 1) and an
            # invalid ancestor make a payload INVALID, whatever its hash
            gap = _rehash(fresh, root, blockNumber=hex(int(fresh["blockNumber"], 16) + 1))
            got_gap = await status_of(gap)
            expect(
                out,
                spec.PARIS_PAYLOAD_VALIDATION,
                got_gap == "INVALID",
                "block number not parent + 1 is INVALID",
                got_gap,
            )
            heir = _rehash(
                fresh,
                root,
                parentHash=stale["blockHash"],
                blockNumber=hex(int(fresh["blockNumber"], 16) + 1),
                timestamp=hex(ts + 1),
            )
            got_heir = await status_of(heir)
            expect(
                out,
                spec.PARIS_PAYLOAD_VALIDATION,
                got_heir == "INVALID",
                "child of an INVALID payload is INVALID",
                got_heir,
            )
            got_ok = await status_of(fresh)
            expect(
                out,
                spec.PARIS_NEW_PAYLOAD,
                got_ok == "VALID",
                "the untouched payload is VALID",
                got_ok,
            )
            self.expect_conforming(out, checker)

    @harness_test("consensus_integration")
    async def test_reorg(self, out: Outcome) -> None:
        """A side chain built by the client becomes head through forkchoiceUpdated, and back."""
        async with self.target.session(self.compact) as s:
            driver, checker = self.driver(s)
            anchor = await self.start_branch(s, driver, out, "test_reorg")
            fork_point = await driver.produce(anchor.block_hash, s.schedule.block_time(2))
            # both chains' block 3 are built on the fork point while it is head
            side = [await self._side_block(out, driver, fork_point.block_hash, 3)]
            main = [await driver.produce(fork_point.block_hash, s.schedule.block_time(3))]
            for n in (4, 5):
                main.append(await driver.produce(main[-1].block_hash, s.schedule.block_time(n)))
            tip = side[0].block_hash
            fcu = await driver.forkchoice(tip, version=VERSION[side[0].fork])
            expect(
                out,
                spec.PARIS_FORKCHOICE,
                fcu["payloadStatus"]["status"] == "VALID",
                "forkchoiceUpdated to the side chain is VALID",
                str(fcu),
            )
            for n in (4, 5, 6):  # the side chain outgrows the main one
                side.append(
                    await self._side_block(out, driver, side[-1].block_hash, n, set_head=True)
                )
            tip = side[-1].block_hash
            fcu = await driver.forkchoice(tip, version=VERSION[side[-1].fork])
            expect(
                out,
                spec.PARIS_FORKCHOICE,
                fcu["payloadStatus"]["status"] == "VALID",
                "forkchoiceUpdated to the side chain is VALID",
                str(fcu),
            )
            nxt = await driver.produce(tip, s.schedule.block_time(7), set_head=False)
            expect(
                out,
                spec.PARIS_FORKCHOICE,
                nxt.payload["parentHash"] == tip and nxt.status["status"] == "VALID",
                "payload after the reorg builds on the new head",
                f"parent {nxt.payload['parentHash'][:18]}.., status {nxt.status['status']}",
            )
            main_tip = main[-1].block_hash
            back = await driver.produce(
                main_tip, s.schedule.block_time(6), prev_randao="0x" + "01" * 32
            )
            expect(
                out,
                spec.PARIS_FORKCHOICE,
                back.payload["parentHash"] == main_tip and back.status["status"] == "VALID",
                "reorg back to the original chain",
                str(back.status),
            )
            if s.reorg_depths is not None:
                out.record(reorg_depths=s.reorg_depths())
            self.expect_conforming(out, checker)

    async def _side_block(
        self, out: Outcome, driver: EngineDriver, parent: str, n: int, set_head: bool = False
    ) -> Produced:
        got = await driver.produce(
            parent,
            driver.schedule.block_time(n),
            prev_randao="0x" + "5d" * 32,
            fee_recipient="0x" + "5d" * 20,
            set_head=set_head,
        )
        expect(
            out,
            spec.PARIS_NEW_PAYLOAD,
            got.status["status"] == "VALID",
            "side-chain payload is VALID",
            f"block {n}: {got.status}",
        )
        return got
