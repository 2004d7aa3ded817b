"""What every Lighthouse test shares: the target, the schedules, sessions, anchors and checks.

Category mixins (one module each) subclass ``LighthouseBase``; the harness class combines
them and declares the categories. The base holds no test of its own.
"""

from __future__ import annotations

from pathlib import Path

from ....oracles.engine import spec
from ....oracles.engine.conformance import ExchangeChecker
from ....oracles.engine.forks import ForkSchedule, schedule_for
from ....oracles.engine.schema import OpenRpcSchemas, schemas
from ....targets.engine import EngineSession, EngineTarget
from ...base import BaseHarness, HarnessContext, Outcome
from .branches import AnchorPool
from .driver import EngineDriver, Produced
from .vectors import find_vectors
from .verdicts import expect, first, require

PAYLOAD_SHAPE = {
    "bellatrix": "ExecutionPayloadV1",
    "capella": "ExecutionPayloadV2",
    "deneb": "ExecutionPayloadV3",
}
REQUIRED_METHODS = [
    f"engine_{m}V{v}" for m in ("newPayload", "forkchoiceUpdated", "getPayload") for v in (1, 2, 3)
]


class LighthouseBase(BaseHarness):
    def __init__(
        self,
        ctx: HarnessContext,
        target: EngineTarget | None = None,
        vectors_dir: Path | None = None,
    ) -> None:
        super().__init__(ctx)
        self.lh = ctx.config.lighthouse
        self.target = target or EngineTarget.from_config(self.lh)
        self.vectors_dir = vectors_dir or find_vectors(ctx.config.test_data_dir)
        self.schedule: ForkSchedule = schedule_for(self.lh.capella_block, self.lh.deneb_block)
        # short schedule for API/validation tests: every fork within a handful of blocks; an
        # external client's forks are fixed by its genesis, so it keeps the configured one
        self.compact = self.schedule if self.target.external else schedule_for(2, 4)
        self.schemas: OpenRpcSchemas = schemas()
        self._shared_pool = AnchorPool(ctx.seed, shared=True)

    async def health_check(self) -> bool:
        try:
            async with self.target.session(self.compact) as s:
                caps = await s.client.call("engine_exchangeCapabilities", [REQUIRED_METHODS])
                return isinstance(caps, list)
        except Exception:
            return False

    def driver(self, s: EngineSession) -> tuple[EngineDriver, ExchangeChecker]:
        """A driver whose every exchange is validated against the spec's codec and schemas."""
        checker = ExchangeChecker(sch=self.schemas)
        return EngineDriver(s.client, s.schedule, checker), checker

    async def start_branch(
        self, s: EngineSession, driver: EngineDriver, out: Outcome, test: str
    ) -> Produced:
        """The test's own block 1 on genesis, made head: the known start of its branch."""
        pool = AnchorPool(self.ctx.seed, shared=False) if s.fresh_chain else self._shared_pool
        anchor = await pool.anchor(driver, test, self.lh.genesis_block_hash)
        require(
            out,
            spec.PARIS_NEW_PAYLOAD,
            anchor.status.get("status") == "VALID",
            "the test's first block (built on genesis) is VALID",
            str(anchor.status),
        )
        fcu = await driver.forkchoice(anchor.block_hash, version=1)
        require(
            out,
            spec.PARIS_FORKCHOICE,
            fcu["payloadStatus"]["status"] == "VALID",
            "forkchoiceUpdated to the test's first block is VALID",
            str(fcu),
        )
        return anchor

    def expect_conforming(self, out: Outcome, checker: ExchangeChecker) -> None:
        out.record(exchanges=checker.exchanges, methods_exercised=sorted(checker.methods))
        expect(
            out,
            spec.OPENRPC,
            not checker.request_violations,
            "requests conform to the OpenRPC schemas",
            first(checker.request_violations),
        )
        expect(
            out,
            spec.OPENRPC,
            not checker.response_violations,
            "responses match the method version's schema",
            first(checker.response_violations),
        )
