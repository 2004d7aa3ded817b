# mypy: disable-error-code="valid-type"
# (remerkleable parameterizes types at run time: ByteVector[20] is a class mypy cannot see)
"""The execution containers exactly as the consensus specs write them, per preset.

Transcribed from consensus-specs (bellatrix/beacon-chain.md, capella/beacon-chain.md,
deneb/beacon-chain.md), field for field and in the spec's order; only the limits differ between
presets (minimal: MAX_WITHDRAWALS_PER_PAYLOAD = 4). This is the framework's own copy, separate
from any target's types, so that a target's field order or limit mistake changes its root and
not the judge's.
"""

# no "from __future__ import annotations": remerkleable reads the annotations as types

from dataclasses import dataclass
from functools import cache

from remerkleable.basic import uint64, uint256
from remerkleable.byte_arrays import ByteList, Bytes32, ByteVector
from remerkleable.complex import Container, List

FORKS = ("bellatrix", "capella", "deneb")

# preset values (consensus-specs presets/{mainnet,minimal}/*.yaml)
MAX_BYTES_PER_TRANSACTION = 2**30
MAX_TRANSACTIONS_PER_PAYLOAD = 2**20
BYTES_PER_LOGS_BLOOM = 256
MAX_EXTRA_DATA_BYTES = 32
MAX_WITHDRAWALS = {"mainnet": 16, "minimal": 4}

ExecutionAddress = ByteVector[20]
Hash32 = Bytes32
Transaction = ByteList[MAX_BYTES_PER_TRANSACTION]
LogsBloom = ByteVector[BYTES_PER_LOGS_BLOOM]
ExtraData = ByteList[MAX_EXTRA_DATA_BYTES]


class Withdrawal(Container):
    index: uint64
    validator_index: uint64
    address: ExecutionAddress
    amount: uint64


class BellatrixExecutionPayload(Container):
    parent_hash: Hash32
    fee_recipient: ExecutionAddress
    state_root: Bytes32
    receipts_root: Bytes32
    logs_bloom: LogsBloom
    prev_randao: Bytes32
    block_number: uint64
    gas_limit: uint64
    gas_used: uint64
    timestamp: uint64
    extra_data: ExtraData
    base_fee_per_gas: uint256
    block_hash: Hash32
    transactions: List[Transaction, MAX_TRANSACTIONS_PER_PAYLOAD]


class BellatrixExecutionPayloadHeader(Container):
    parent_hash: Hash32
    fee_recipient: ExecutionAddress
    state_root: Bytes32
    receipts_root: Bytes32
    logs_bloom: LogsBloom
    prev_randao: Bytes32
    block_number: uint64
    gas_limit: uint64
    gas_used: uint64
    timestamp: uint64
    extra_data: ExtraData
    base_fee_per_gas: uint256
    block_hash: Hash32
    transactions_root: Bytes32


class CapellaExecutionPayloadHeader(BellatrixExecutionPayloadHeader):
    withdrawals_root: Bytes32


class DenebExecutionPayloadHeader(CapellaExecutionPayloadHeader):
    blob_gas_used: uint64
    excess_blob_gas: uint64


@dataclass(frozen=True)
class SpecTypes:
    """(fork, name) -> container class for one preset."""

    preset: str
    types: dict[tuple[str, str], type[Container]]

    def get(self, fork: str, name: str) -> type[Container]:
        try:
            return self.types[(fork, name)]
        except KeyError:
            raise ValueError(f"the spec has no {name} in {fork}") from None


@cache
def spec_types(preset: str = "mainnet") -> SpecTypes:
    """The containers of ``preset``; payload types depend on MAX_WITHDRAWALS_PER_PAYLOAD."""
    if preset not in MAX_WITHDRAWALS:
        raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(MAX_WITHDRAWALS)}")
    max_withdrawals = MAX_WITHDRAWALS[preset]

    class CapellaExecutionPayload(BellatrixExecutionPayload):
        withdrawals: List[Withdrawal, max_withdrawals]

    class DenebExecutionPayload(CapellaExecutionPayload):
        blob_gas_used: uint64
        excess_blob_gas: uint64

    return SpecTypes(
        preset,
        {
            ("bellatrix", "ExecutionPayload"): BellatrixExecutionPayload,
            ("bellatrix", "ExecutionPayloadHeader"): BellatrixExecutionPayloadHeader,
            ("capella", "ExecutionPayload"): CapellaExecutionPayload,
            ("capella", "ExecutionPayloadHeader"): CapellaExecutionPayloadHeader,
            ("capella", "Withdrawal"): Withdrawal,
            ("deneb", "ExecutionPayload"): DenebExecutionPayload,
            ("deneb", "ExecutionPayloadHeader"): DenebExecutionPayloadHeader,
            ("deneb", "Withdrawal"): Withdrawal,
        },
    )
