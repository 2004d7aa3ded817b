"""Per-test starting points: the genesis block, found from the client, and one branch per test.

Rules:
- the genesis hash comes from the client (``eth_getBlockByNumber("0x0")``, served on the
  Engine API port per common.md) or from ``lighthouse.genesis_block_hash``; if both exist they
  must agree; if neither, the run stops with one line saying what to set;
- every block-building test starts from an *anchor* of its own: a block 1 built through the
  client on genesis (forkchoiceUpdated with attributes, getPayload, newPayload) and never made
  head by anyone else. Anchors are siblings, so no test's head is an ancestor of another's:
  a test's forkchoiceUpdated to its anchor is a reorg, never the "VALID ancestor" case that
  paris.md lets a client skip, and one test's leftovers cannot change another's verdict;
- on an endpoint shared by sessions (external) all anchors are built in one go while genesis
  is still head; on a fresh embedded endpoint the test's own anchor is built on the spot;
- each anchor's prevRandao is derived from the run seed and the test name, so two runs with
  different seeds never collide on a shared client.
"""

from __future__ import annotations

from eth_hash.auto import keccak

from .driver import EngineCallError, EngineDriver, Produced

BRANCH_TESTS = (
    "test_every_method_and_version",
    "test_error_codes",
    "test_block_production",
    "test_payload_validation",
    "test_reorg",
)


class GenesisUnknown(RuntimeError):
    """Neither the client nor the config names the genesis block."""


async def discover_genesis(driver: EngineDriver, configured: str | None) -> str:
    """The genesis hash from the client, checked against the configured one if any."""
    found: str | None = None
    try:
        block = await driver.call("eth_getBlockByNumber", ["0x0", False])
        if isinstance(block, dict) and isinstance(block.get("hash"), str):
            found = block["hash"]
    except EngineCallError:
        found = None
    if found and configured and found.lower() != configured.lower():
        raise GenesisUnknown(
            f"lighthouse.genesis_block_hash {configured} differs from the client's block 0 {found}"
        )
    if found or configured:
        return str(found or configured)
    raise GenesisUnknown(
        "the endpoint does not serve eth_getBlockByNumber: set lighthouse.genesis_block_hash "
        "to the execution chain's genesis block hash"
    )


class AnchorPool:
    """Anchors (block 1 of each test's branch) by test name."""

    def __init__(self, seed: int, shared: bool) -> None:
        self.seed = seed
        self.shared = shared
        self.genesis: str | None = None
        self.anchors: dict[str, Produced] = {}

    def _randao(self, test: str) -> str:
        return "0x" + keccak(f"alys-lighthouse:{self.seed}:{test}".encode()).hex()

    async def anchor(self, driver: EngineDriver, test: str, configured: str | None) -> Produced:
        """The test's anchor, built through the client when first asked for."""
        if self.genesis is None:
            self.genesis = await discover_genesis(driver, configured)
        if test not in self.anchors:
            wanted = BRANCH_TESTS if self.shared else (test,)
            ts = driver.schedule.block_time(1)
            for name in wanted:
                if name in self.anchors:
                    continue
                try:
                    self.anchors[name] = await driver.produce(
                        self.genesis, ts, prev_randao=self._randao(name), set_head=False
                    )
                except EngineCallError as exc:
                    raise EngineCallError(
                        exc.method,
                        exc.code,
                        f"cannot build block 1 on genesis {self.genesis[:18]}.. for {name} "
                        "(each test builds its own branch on block 0; a client whose head has "
                        f"moved past genesis may refuse: start it on a fresh chain): {exc.message}",
                    ) from None
        return self.anchors[test]
