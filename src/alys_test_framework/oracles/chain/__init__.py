"""Independent block oracle: judges blocks, chains, checkpoints and fork choice of an Alys
reference-node network from the chain spec file alone, by the rules of docs/CHAIN_RULES.md.

Never imports the node under test: the encodings, the genesis, the digests and the BLS checks
(pyblst directly) are re-implemented here from the doc, so a bug in the node's own validation
cannot hide behind the same bug in its judge.
"""

from .encoding import EncodingError, OBlock
from .fork_choice import Branch, fork_choice_violations, pick_head
from .judge import ChainOracle, CheckpointView
from .rules import MAX_REORG, RULES, Violation
from .signatures import SignatureOracle
from .spec import OracleSpec, OracleSpecError

__all__ = [
    "MAX_REORG",
    "RULES",
    "Branch",
    "ChainOracle",
    "CheckpointView",
    "EncodingError",
    "OBlock",
    "OracleSpec",
    "OracleSpecError",
    "SignatureOracle",
    "Violation",
    "fork_choice_violations",
    "pick_head",
]
