"""Where each rule of the Engine API is written, so that every failed check can cite it.

A verdict a person cannot trace to the specification is an opinion. Each constant is a
section of ethereum/execution-apis (src/engine/*.md) and ``cite`` prefixes a property with it:
``paris.md#engine_newpayloadv1: newPayload rejects a wrong block hash``.
"""

from __future__ import annotations

COMMON_ERRORS = "common.md#errors"
COMMON_ENCODING = "common.md#encoding"  # QUANTITY: 0x, no leading zeros; else -32602
COMMON_AUTH = "authentication.md#jwt-claims"
COMMON_CAPABILITIES = "common.md#engine_exchangecapabilities"
PARIS_PAYLOAD = "paris.md#executionpayloadv1"
PARIS_BLOCK_HASH = "paris.md#engine_newpayloadv1"  # step 2: blockHash = Keccak256(RLP(header))
PARIS_NEW_PAYLOAD = "paris.md#engine_newpayloadv1"
PARIS_FORKCHOICE = "paris.md#engine_forkchoiceupdatedv1"
PARIS_GET_PAYLOAD = "paris.md#engine_getpayloadv1"
PARIS_PAYLOAD_VALIDATION = "paris.md#payload-validation"
SHANGHAI_BODIES_BY_HASH = "shanghai.md#engine_getpayloadbodiesbyhashv1"
SHANGHAI_BODIES_BY_RANGE = "shanghai.md#engine_getpayloadbodiesbyrangev1"
SHANGHAI_NEW_PAYLOAD = "shanghai.md#engine_newpayloadv2"
SHANGHAI_FORKCHOICE = "shanghai.md#engine_forkchoiceupdatedv2"
SHANGHAI_GET_PAYLOAD = "shanghai.md#engine_getpayloadv2"  # V1 or V2 payloads only
CANCUN_FORKCHOICE = "cancun.md#engine_forkchoiceupdatedv3"
CANCUN_PAYLOAD = "cancun.md#executionpayloadv3"
OPENRPC = "openrpc/methods#schemas"
SSZ_STATIC = "consensus-specs/tests/formats/ssz_static#hash_tree_root"
BELLATRIX_HEADER = "consensus-specs/specs/bellatrix/beacon-chain.md#executionpayloadheader"
CAPELLA_UPGRADE = "consensus-specs/specs/capella/fork.md#upgrading-the-state"
DENEB_UPGRADE = "consensus-specs/specs/deneb/fork.md#upgrading-the-state"

# spec minimums and limits the harness relies on (and no more than that)
MIN_BODIES_BY_RANGE = 32  # shanghai.md: "MUST support count values of at least 32 blocks"
IAT_WINDOW_S = 60  # authentication.md: iat within +-60 seconds

# common.md error codes
PARSE_ERROR = -32700
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
UNKNOWN_PAYLOAD = -38001
INVALID_FORKCHOICE_STATE = -38002
INVALID_PAYLOAD_ATTRIBUTES = -38003
TOO_LARGE_REQUEST = -38004
UNSUPPORTED_FORK = -38005


def cite(section: str, prop: str) -> str:
    """``section: prop``: the property as it appears in a failure message."""
    return f"{section}: {prop}"
