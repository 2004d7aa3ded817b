"""A tiny stand-in node honouring the CLI/ready-line/RPC contract, for testing NodeCluster.

P2P is a line protocol: each side sends ``HEAD <height>`` whenever its head changes and adopts
any higher head it hears (and forwards it), so head convergence through the proxy is real.
``--seeded-bug no-gossip`` never forwards; ``--crash-on-start`` exits 3 before the ready line.
It also answers the real Alys node's names (``--db-path``, ``--remote-bootnode``, getheadblock,
``/metrics`` chain_block_height) so the ``alys`` profile can be tested against it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys
import time

from aiohttp import web


def log(msg: str, **kw: object) -> None:
    sys.stderr.write(json.dumps({"ts": time.time(), "level": "info", "msg": msg, **kw}) + "\n")
    sys.stderr.flush()


class Fake:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state_file = os.path.join(args.datadir, "height")
        self.height = int(open(self.state_file).read()) if os.path.exists(self.state_file) else 0
        self.peers: set[asyncio.StreamWriter] = set()
        self.stop = asyncio.Event()

    def head_hash(self) -> str:
        return "0x" + hashlib.sha256(str(self.height).encode()).hexdigest()

    def set_height(self, h: int, forward: bool = True) -> None:
        self.height = h
        with open(self.state_file, "w") as fh:
            fh.write(str(h))
        log("new head", height=h)
        if forward:
            for w in list(self.peers):
                w.write(f"HEAD {h}\n".encode())

    async def peer(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.peers.add(w)
        w.write(f"HEAD {self.height}\n".encode())
        try:
            while line := await r.readline():
                parts = line.split()
                if len(parts) == 2 and parts[0] == b"HEAD" and int(parts[1]) > self.height:
                    self.set_height(int(parts[1]), forward=self.args.seeded_bug != "no-gossip")
        except (ConnectionError, ValueError):
            pass
        finally:
            self.peers.discard(w)
            w.close()

    async def rpc(self, request: web.Request) -> web.Response:
        body = await request.json()
        method, params = body.get("method"), body.get("params") or []
        result: object
        if method == "chain_head":
            result = {"height": self.height, "hash": self.head_hash()}
        elif method == "getheadblock":  # the real Alys node's name and shape
            payload = {"block_number": self.height, "block_hash": self.head_hash()}
            result = {"message": {"execution_payload": payload}, "signature": "0x00"}
        elif method == "node_status":
            result = {"height": self.height, "hash": self.head_hash(), "peers": len(self.peers)}
        elif method == "dev_produceBlocks":
            self.set_height(self.height + int(params[0]))
            result = {"height": self.height, "hash": self.head_hash()}
        elif method == "admin_addPeer":
            host, port = params[0].rsplit(":", 1)
            r, w = await asyncio.open_connection(host, int(port))
            asyncio.ensure_future(self.peer(r, w))
            result = True
        elif method == "node_shutdown":
            self.stop.set()
            result = True
        else:
            err = {"code": -32601, "message": f"method not found: {method}"}
            return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "error": err})
        return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "result": result})

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            text=f"# TYPE chain_block_height gauge\nchain_block_height {self.height}\n"
        )

    async def main(self) -> None:
        p2p = await asyncio.start_server(self.peer, "127.0.0.1", self.args.p2p_port)
        app = web.Application()
        app.router.add_post("/", self.rpc)
        app.router.add_get("/metrics", self.metrics)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.args.rpc_port)
        await site.start()
        rpc_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        p2p_port = p2p.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        for boot in self.args.bootnode:
            host, port = boot.rsplit(":", 1)
            r, w = await asyncio.open_connection(host, int(port))
            asyncio.ensure_future(self.peer(r, w))
        if self.args.spawn_child:  # a grandchild, to prove process-group teardown
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import time; time.sleep(600)"
            )
        ready = {"event": "ready", "p2p_port": p2p_port, "rpc_port": rpc_port, "pid": os.getpid()}
        print(json.dumps(ready), flush=True)
        log("started", p2p_port=p2p_port)
        await self.stop.wait()
        log("stopping")
        await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datadir", "--db-path", dest="datadir", required=True)
    ap.add_argument("--p2p-port", type=int, default=0)
    ap.add_argument("--rpc-port", type=int, default=0)
    ap.add_argument("--bootnode", "--remote-bootnode", action="append", default=[])
    ap.add_argument("--log-json", action="store_true")
    ap.add_argument("--dev", action="store_true")
    ap.add_argument("--chain-spec", default=None)  # accepted and ignored: one fake chain
    ap.add_argument("--authority-key", default=None)
    ap.add_argument("--seeded-bug", default=None)
    ap.add_argument("--crash-on-start", action="store_true")
    ap.add_argument("--spawn-child", action="store_true")
    args = ap.parse_args()
    if args.crash_on_start:
        log("crashing on purpose")
        sys.exit(3)
    asyncio.run(Fake(args).main())


if __name__ == "__main__":
    main()
