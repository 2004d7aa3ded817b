"""`alys-node` command line: run a node, or `alys-node init-spec` to write a chain spec."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
from typing import TYPE_CHECKING

from alys_node.bugs import SEEDED_BUGS
from alys_node.chain.spec import AuthorityKey, ChainSpec, SpecError, dev_spec_and_key, init_spec

if TYPE_CHECKING:  # the node (aiohttp, actors...) is imported only when a node really starts:
    from alys_node.node import Node  # spawned verification workers re-import this module

log = logging.getLogger("alys_node")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is ONE line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


_DIGITS = re.compile(r"[0-9]{1,5}")  # ASCII only: int() and str.isdigit() take any script


def _port(v: str) -> int:
    if not _DIGITS.fullmatch(v) or not 0 <= int(v) < 65536:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 in ASCII digits, got {v!r}")
    return int(v)


def _hostport(v: str) -> str:
    host, sep, port = v.rpartition(":")
    if not sep or not host or not _DIGITS.fullmatch(port) or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {v!r}")
    return v


def _seconds(v: str) -> float:
    try:
        s = float(v)
    except ValueError:
        s = float("nan")
    if not 0 < s < 3600:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 3600), got {v!r}")
    return s


def _readable(v: str) -> str:
    if not os.path.isfile(v) or not os.access(v, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {v!r}")
    return v


def _positive(v: str) -> int:
    n = int(v)
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {n}")
    return n


def run_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="alys-node", description="Alys V2 reference node (PoA, SQLite, TCP P2P).")
    # --db-path, --remote-bootnode and --jwt-secret are the real Alys node's spellings
    p.add_argument("--datadir", "--db-path", dest="datadir", required=True,
                   help="directory for the block store")  # fmt: skip
    p.add_argument("--p2p-port", type=_port, required=True, help="P2P TCP port (0 = pick one)")
    p.add_argument("--rpc-port", type=_port, required=True, help="JSON-RPC HTTP port (0 = pick)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--bootnode", "--remote-bootnode", dest="bootnode", type=_hostport,
                   action="append", default=[], metavar="HOST:PORT")  # fmt: skip
    p.add_argument("--jwt-secret", type=_readable, metavar="FILE",
                   help="Engine API JWT secret (accepted for Alys compatibility; the embedded "
                   "execution endpoint writes its own)")  # fmt: skip
    p.add_argument("--authority-key", help="authority key file (enables block production)")
    p.add_argument("--chain-spec", help="chain spec JSON (default: built-in dev chain)")
    p.add_argument(
        "--dev", action="store_true", help="produce blocks on demand (dev_produceBlocks)"
    )
    p.add_argument("--log-json", action="store_true", help="JSON-lines logs on stderr")
    p.add_argument("--max-peers", type=_positive, default=25)
    p.add_argument("--seeded-bug", action="append", default=[], choices=SEEDED_BUGS,
                   help=argparse.SUPPRESS)  # fmt: skip
    p.add_argument("--verify-workers", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--stall-timeout", type=float, default=5.0, help=argparse.SUPPRESS)
    p.add_argument("--ban-seconds", type=float, default=300.0, help=argparse.SUPPRESS)
    p.add_argument("--sync-range", type=_positive, default=128, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # replayable jitter
    p.add_argument("--handshake-timeout", type=_seconds, default=10.0, help=argparse.SUPPRESS)
    return p


def spec_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="alys-node init-spec", description="Write a chain spec and authority keys.")
    p.add_argument("--authorities", type=_positive, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--chain-id", default="alys-test")
    p.add_argument("--slot-ms", type=_positive, default=2000)
    p.add_argument("--checkpoint-interval", type=_positive, default=100)
    p.add_argument("--seed", default=None, help=argparse.SUPPRESS)
    return p


def _fail(msg: str, code: int = 2) -> None:
    sys.stderr.write(f"alys-node: error: {msg}\n")
    sys.exit(code)


def _load(a: argparse.Namespace) -> tuple[ChainSpec, AuthorityKey | None]:
    """Raises SpecError only: any unreadable input becomes one line and exit 2 (D11)."""
    try:
        return _load_files(a)
    except SpecError:
        raise
    except UnicodeDecodeError as e:
        raise SpecError(f"a --chain-spec or --authority-key file is not UTF-8 text: {e}") from None
    except (ValueError, KeyError, TypeError, OSError) as e:
        raise SpecError(f"cannot load the chain spec or authority key: {e!r}") from None


def _load_files(a: argparse.Namespace) -> tuple[ChainSpec, AuthorityKey | None]:
    if a.chain_spec:
        spec = ChainSpec.load(a.chain_spec)
        key = None
    else:
        spec, key = dev_spec_and_key()
        if not a.dev:
            key = None
    if a.authority_key:
        key = AuthorityKey.load(a.authority_key)
        if key.index >= len(spec.authorities) or spec.authorities[key.index] != key.public_key:
            raise SpecError(f"authority key {a.authority_key} is not an authority of this chain")
    return spec, key


async def _serve(node: Node) -> int:
    from alys_node.store.blockstore import StoreError

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, node.request_stop)
    try:
        await node.start()
    except StoreError as e:
        _fail(str(e), 1)
    except OSError as e:
        _fail(f"cannot bind listeners: {e.strerror or e}", 1)
    ready = {"event": "ready", "p2p_port": node.p2p_port, "rpc_port": node.rpc_port}
    ready["pid"] = os.getpid()
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    log.info("node started", extra=ready | {"height": node.store.head_height})
    await node.wait_stopped()
    log.info("shutting down")
    await node.stop()
    sup = getattr(node, "supervisor", None)
    if sup is not None and sup.fatal:  # never half-alive: a subsystem that cannot recover ends us
        sys.stderr.write(f"alys-node: error: {sup.fatal}\n")
        return sup.exit_code
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "init-spec":
        a = spec_parser().parse_args(argv[1:])
        try:
            init_spec(a.out, a.authorities, a.chain_id, a.slot_ms, a.checkpoint_interval,
                      seed=a.seed.encode().ljust(32, b"\0") if a.seed else None)  # fmt: skip
        except (SpecError, OSError) as e:
            _fail(str(e))
        print(json.dumps({"chain_spec": os.path.join(a.out, "chain-spec.json")}))
        return
    a = run_parser().parse_args(argv)
    from alys_node import logs

    logs.setup(a.log_json, logging.DEBUG if os.environ.get("ALYS_NODE_DEBUG") else logging.INFO)
    try:
        spec, key = _load(a)
    except SpecError as e:
        _fail(str(e))
    from alys_node.node import Node

    node = Node(
        datadir=a.datadir, spec=spec, key=key, host=a.host, p2p_port=a.p2p_port,
        rpc_port=a.rpc_port, bootnodes=a.bootnode, dev=a.dev, max_peers=a.max_peers,
        bugs=tuple(a.seeded_bug), verify_workers=a.verify_workers, stall_timeout=a.stall_timeout,
        ban_seconds=a.ban_seconds, sync_range=a.sync_range, seed=a.seed,
    )  # fmt: skip
    node.handshake_timeout = a.handshake_timeout  # type: ignore[attr-defined]
    try:
        sys.exit(asyncio.run(_serve(node)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
