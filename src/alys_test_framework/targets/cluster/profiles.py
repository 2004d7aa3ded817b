"""Node profiles: how the cluster harnesses talk to one kind of node binary.

A profile is the whole contract with a node implementation, as Ethereum's Hive describes a
client: a command template, the names of its CLI flags, the ready line it prints, the JSON-RPC
methods it serves and the Prometheus names it exports. The harnesses speak one vocabulary (the
reference node's method names, docs/NODE_API.md); a profile maps that vocabulary onto a real
node, and says "no" for what the node does not offer.

Rules:
1. A canonical method a profile does not map raises ``ProfileUnsupported`` naming the profile
   and the method; the harness then reports the test UNSUPPORTED, never passed.
2. Results are normalised to the canonical shape (``{"height", "hash"}`` for heads and blocks)
   by the profile, so harness code never branches on which node it drives.
3. Profile ``reference`` is today's contract; profile ``alys`` uses only what the real Alys node
   exposes (JSON-RPC getheadblock / getblockbyheight / getblockbyhash, ``/metrics``
   ``chain_block_height``, CLI flags --rpc-port --p2p-port --remote-bootnode --db-path --dev
   --jwt-secret).
4. What a node does not serve may still be *measured* from outside (``observed``: canonical
   method -> how, implemented in ``observe.py``): ``supports`` is true for it, ``serves`` is
   not. A test that needs the node's own answer (exact production, a receipt time) asks for a
   capability (``capabilities``) the measurement cannot give.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ClusterError


class ProfileUnsupported(ClusterError):
    """The node profile cannot express an operation a test needs."""

    def __init__(self, profile: str, operation: str, why: str = "") -> None:
        self.profile = profile
        self.operation = operation
        super().__init__(
            f"node profile {profile!r} offers no {operation}" + (f" ({why})" if why else "")
        )


Normaliser = Callable[[Any], Any]
ParamsAdapter = Callable[[tuple[Any, ...]], list[Any]]


def _identity(value: Any) -> Any:
    return value


def _as_list(params: tuple[Any, ...]) -> list[Any]:
    return list(params)


def _bare_hex(params: tuple[Any, ...]) -> list[Any]:
    """The real Alys node takes block hashes as hex without the 0x prefix."""
    return [p[2:] if isinstance(p, str) and p.startswith("0x") else p for p in params]


def _int(value: Any) -> int:
    """Heights arrive as ints or as 0x-quantities (Ethereum style)."""
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    return int(value)


_HEIGHT_PATHS = (
    ("height",),
    ("number",),
    ("block_number",),
    ("message", "height"),
    ("message", "execution_payload", "block_number"),
)
_HASH_PATHS = (
    ("hash",),
    ("block_hash",),
    ("message", "hash"),
    ("message", "execution_payload", "block_hash"),
)


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def block_view(value: Any) -> Any:
    """A block or head in whatever shape the node answers, with canonical height and hash added.

    Every original field is kept (received_at, signature, parent_hash … where the node has them),
    so a check that needs a field the node lacks sees it missing rather than invented.
    """
    if not isinstance(value, dict):
        return value
    out = dict(value)
    height = next((v for p in _HEIGHT_PATHS if (v := _dig(value, p)) is not None), None)
    block_hash = next((v for p in _HASH_PATHS if (v := _dig(value, p)) is not None), None)
    if height is not None:
        out["height"] = _int(height)
    if block_hash is not None:
        out["hash"] = block_hash
    return out


@dataclass(frozen=True)
class NodeProfile:
    """See the module docstring. ``rpc`` maps canonical method -> (node method, normaliser),
    ``params`` optionally adapts a canonical method's parameters to the node's."""

    name: str
    command: tuple[str, ...]
    flags: Mapping[str, str | None]
    rpc: Mapping[str, tuple[str, Normaliser]]
    metrics: Mapping[str, str]
    params: Mapping[str, ParamsAdapter] = field(default_factory=dict)
    ready_event: str = "ready"
    ready_ports: tuple[str, str] = ("p2p_port", "rpc_port")
    common_args: tuple[str, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)
    observed: Mapping[str, str] = field(default_factory=dict)
    capabilities: frozenset[str] = frozenset()

    # -- RPC --------------------------------------------------------------------------------
    def supports(self, method: str) -> bool:
        """Served by the node, measured from outside (rule 4), or a capability it has."""
        return method in self.rpc or method in self.observed or method in self.capabilities

    def serves(self, method: str) -> bool:
        """The node itself answers ``method`` (not a measurement standing in for it)."""
        return method in self.rpc

    def observes(self, method: str) -> bool:
        return method not in self.rpc and method in self.observed

    def method(self, canonical: str) -> tuple[str, Normaliser]:
        try:
            return self.rpc[canonical]
        except KeyError:
            raise ProfileUnsupported(self.name, canonical, self.notes.get(canonical, "")) from None

    def lacks(self, *methods: str, flags: tuple[str, ...] = ()) -> str | None:
        """Why a test needing ``methods`` and ``flags`` cannot run here, or None if it can."""
        lacking = [m for m in methods if not self.supports(m)]
        lacking_flags = [f for f in flags if not self.has_flag(f)]
        missing = lacking + [f"CLI flag for {f}" for f in lacking_flags]
        if not missing:
            return None
        why = sorted({
            self.notes[m] for m in lacking + lacking_flags if m in self.notes and m not in _GENERIC
        })  # fmt: skip
        return f"node profile {self.name!r} offers no {', '.join(missing)}" + (
            f" ({'; '.join(why)})" if why else ""
        )

    def adapt_params(self, canonical: str, params: tuple[Any, ...]) -> list[Any]:
        return self.params.get(canonical, _as_list)(params)

    # -- CLI --------------------------------------------------------------------------------
    def flag(self, logical: str) -> str:
        found = self.flags.get(logical)
        if found is None:
            raise ProfileUnsupported(
                self.name, f"CLI flag for {logical}", self.notes.get(logical, "")
            )
        return found

    def has_flag(self, logical: str) -> bool:
        return self.flags.get(logical) is not None

    def launch_args(self, datadir: str, p2p_port: int, rpc_port: int) -> list[str]:
        return [
            self.flag("datadir"), datadir,
            self.flag("p2p_port"), str(p2p_port),
            self.flag("rpc_port"), str(rpc_port),
            *self.common_args,
        ]  # fmt: skip

    # -- the ready line ---------------------------------------------------------------------
    def parse_ready(self, line: bytes | str) -> tuple[int, int] | None:
        """(p2p_port, rpc_port) if ``line`` is the node's ready line, else None."""
        try:
            msg = json.loads(line)
        except ValueError:
            return None  # stray output before the ready line
        if not isinstance(msg, dict) or msg.get("event") != self.ready_event:
            return None
        p2p, rpc = self.ready_ports
        try:
            return int(msg[p2p]), int(msg[rpc])
        except (KeyError, TypeError, ValueError):
            return None

    # -- metrics ----------------------------------------------------------------------------
    def metric_name(self, logical: str) -> str:
        found = self.metrics.get(logical)
        if found is None:
            raise ProfileUnsupported(self.name, f"metric for {logical}")
        return found


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition -> {name (labels kept verbatim): value}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.rpartition(" ")
        if not name:
            continue
        try:
            out[name.strip()] = float(rest)
        except ValueError:
            continue
    return out


# capabilities (rule 4): what a test may need beyond a method name
NEW_BLOCKS = "new_blocks"  # the producer makes new blocks on a fresh chain (asked or by itself)
RECEIVED_AT = "received_at"  # blocks carry the node's own receipt time
# blocks in docs/NODE_API.md's JSON (producer, txs, signature...): what oracles.chain decodes
REFERENCE_BLOCK_JSON = "reference_block_json"

_REFERENCE_RPC = {
    m: (m, block_view if m in ("chain_head", "chain_getBlockByHeight", "chain_getBlockByHash")
        else _identity)
    for m in (
        "node_status", "chain_head", "chain_getBlockByHeight", "chain_getBlockByHash",
        "chain_getCheckpoints", "admin_addPeer", "admin_removePeer", "admin_peers",
        "admin_bans", "dev_produceBlocks", "node_shutdown", "node_health",
    )
}  # fmt: skip

REFERENCE = NodeProfile(
    name="reference",
    command=("{python}", "-m", "alys_node"),
    flags={
        "datadir": "--datadir",
        "p2p_port": "--p2p-port",
        "rpc_port": "--rpc-port",
        "bootnode": "--bootnode",
        "dev": "--dev",
        "chain_spec": "--chain-spec",
        "authority_key": "--authority-key",
        "max_peers": "--max-peers",
        "jwt_secret": None,
    },
    rpc=_REFERENCE_RPC,
    metrics={
        "head_height": "alys_head_height",
        "peers": "alys_peers",
        "bytes_in": "alys_p2p_bytes_in_total",
        "bans": "alys_peer_bans",
    },
    common_args=("--log-json",),
    capabilities=frozenset({NEW_BLOCKS, RECEIVED_AT, REFERENCE_BLOCK_JSON}),
)

_ALYS_ONLY = "the real Alys node serves only getheadblock, getblockbyheight and getblockbyhash"
_GENERIC = frozenset(
    {"node_status", "admin_addPeer", "admin_removePeer", "node_shutdown", "node_health"}
)  # methods whose note only repeats _ALYS_ONLY: not quoted in every reason

ALYS = NodeProfile(
    name="alys",
    command=("{python}", "-m", "alys_node"),
    flags={
        "datadir": "--db-path",
        "p2p_port": "--p2p-port",
        "rpc_port": "--rpc-port",
        "bootnode": "--remote-bootnode",
        "dev": "--dev",
        "jwt_secret": "--jwt-secret",
        # the real node has no chain-spec, authority-key or max-peers flag
        "chain_spec": "--chain-spec",
        "authority_key": "--authority-key",
        "max_peers": None,
    },
    rpc={
        "chain_head": ("getheadblock", block_view),
        "chain_getBlockByHeight": ("getblockbyheight", block_view),
        "chain_getBlockByHash": ("getblockbyhash", block_view),
    },
    params={"chain_getBlockByHash": _bare_hex},
    metrics={"head_height": "chain_block_height"},
    notes={
        **{m: _ALYS_ONLY for m in _GENERIC},
        "chain_getCheckpoints": "the real Alys node exposes no checkpoints, and nothing on the "
        "wire or in /metrics says which heights it checkpointed",
        "admin_bans": "the real Alys node has no ban list RPC; observe.observed_ban measures a "
        "ban at the fault proxy instead",
        "dev_produceBlocks": "the real Alys node produces one block per owned slot by itself, "
        "so a test can neither choose how many blocks it produces nor make it produce on a "
        "template chain whose tip slot lies ahead of the clock",
        RECEIVED_AT: "the real Alys node's blocks (SignedConsensusBlock JSON) carry no receipt "
        "time, so per-hop gossip latency is not measurable",
        REFERENCE_BLOCK_JSON: "the real Alys node's SignedConsensusBlock JSON has no producer "
        "index or transaction list in the reference shape, so the chain oracle cannot decode it",
        "max_peers": "none of the real Alys node's flags (--rpc-port --p2p-port "
        "--remote-bootnode --db-path --dev --jwt-secret) limits its peers: no max-peers flag",
    },
    observed={
        "admin_peers": "open TCP connections seen at the fault proxy and in the socket table",
    },
    capabilities=frozenset({NEW_BLOCKS}),
)

PROFILES: dict[str, NodeProfile] = {p.name: p for p in (REFERENCE, ALYS)}


def get_profile(name: str | NodeProfile) -> NodeProfile:
    if isinstance(name, NodeProfile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ClusterError(
            f"unknown node profile {name!r}; known: {', '.join(sorted(PROFILES))}"
        ) from None
