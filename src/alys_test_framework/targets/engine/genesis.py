"""A post-merge, geth-style genesis whose fork times are the harness's schedule.

Rules: every pre-merge fork at block 0, terminalTotalDifficulty 0 (the chain is post-merge from
genesis, so the Engine API drives it from block 1); shanghaiTime and cancunTime are the
schedule's capella and deneb activation times; the genesis timestamp is the schedule's
genesis time; cancun's blob schedule is the mainnet one (target 3, max 6); nothing is
allocated, so blocks carry no transactions and every state root is the empty one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...oracles.engine.forks import ForkSchedule

CHAIN_ID = 1337
GAS_LIMIT = 30_000_000
BASE_FEE = 1_000_000_000
_PRE_MERGE = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "berlinBlock",
    "londonBlock",
    "mergeNetsplitBlock",
)


def geth_genesis(schedule: ForkSchedule, chain_id: int = CHAIN_ID) -> dict[str, Any]:
    config: dict[str, Any] = {"chainId": chain_id}
    config.update(dict.fromkeys(_PRE_MERGE, 0))
    config.update(
        terminalTotalDifficulty=0,
        terminalTotalDifficultyPassed=True,
        shanghaiTime=schedule.capella_time,
        cancunTime=schedule.deneb_time,
        blobSchedule={"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477}},
    )
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(schedule.genesis_time),
        "extraData": "0x",
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": hex(BASE_FEE),
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
        "alloc": {},
    }


def write_genesis(path: Path, schedule: ForkSchedule) -> Path:
    path.write_text(json.dumps(geth_genesis(schedule), indent=1))
    return path
