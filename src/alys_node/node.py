"""Node: opens the store, spawns the actors, binds the listeners, attaches optional modules.

The node is wiring only. Chain and sync get their dependencies explicitly (spec, verifier,
metrics, key) and share state through Views with one owner each: the head is published by
ChainActor once durable, the sync status by SyncActor; everyone else reads the View
(``node.head``, ``node.syncing``), never the store. The rules live in the pure cores
(chain/fork_choice.py, sync/machine.py, sync/scheduler.py).

The process entry point (``__main__``) builds a Node from CLI flags; tests can also run one
in-process with ``async with Node(...)``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
from pathlib import Path

from alys_actors import ActorRef, ActorSystem, MailboxConfig
from alys_node.actors.chain import ChainActor
from alys_node.actors.network import NetworkActor
from alys_node.actors.rpc import RpcActor
from alys_node.actors.storage import StorageActor
from alys_node.actors.sync import SyncActor
from alys_node.actors.views import View
from alys_node.chain.fork_choice import Head
from alys_node.chain.spec import AuthorityKey, ChainSpec
from alys_node.metrics import NodeMetrics
from alys_node.p2p.scoring import Reputation
from alys_node.rpc import RpcServer
from alys_node.store.blockstore import BlockStore
from alys_node.supervisor import RootSupervisor
from alys_node.sync.machine import SyncMachine
from alys_node.sync.scheduler import RangeScheduler
from alys_node.verification import Verifier

log = logging.getLogger("alys_node")

OPTIONAL_ACTORS = ["alys_node.governance.actor", "alys_node.engine.actor"]


class Node:
    def __init__(
        self,
        *,
        datadir: str | Path,
        spec: ChainSpec,
        key: AuthorityKey | None = None,
        host: str = "127.0.0.1",
        p2p_port: int = 0,
        rpc_port: int = 0,
        bootnodes: list[str] | None = None,
        dev: bool = False,
        max_peers: int = 25,
        bugs: tuple[str, ...] = (),
        verify_workers: int | None = None,
        sync_range: int = 128,
        sync_window: int = 4096,
        stall_timeout: float = 5.0,
        ban_seconds: float = 300.0,
        seed: int | None = None,
    ) -> None:
        self.datadir = Path(datadir)
        self.spec = spec
        self.key = key
        self.host = host
        self.p2p_port_arg = p2p_port
        self.rpc_port_arg = rpc_port
        self.p2p_port = 0
        self.rpc_port = 0
        self.bootnodes = list(bootnodes or [])
        self.dev = dev
        self.max_peers = max_peers
        self.bugs = frozenset(bugs)
        self.sync_range = sync_range
        self.sync_window = sync_window
        self.stall_timeout = stall_timeout
        self.verify_workers = verify_workers
        self.rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8)))
        self.reputation = Reputation(ban_seconds)
        self.metrics = NodeMetrics()
        self.rpc = RpcServer(self.metrics.render)
        self.genesis_hash = spec.genesis().hash
        self.sync_state: View[bool] = View(False)  # published by SyncActor
        self.head: View[Head]  # published by ChainActor, the head's only owner
        self.store: BlockStore
        self.verifier: Verifier
        self.system: ActorSystem
        self.refs: dict[str, ActorRef] = {}
        self._stopped = asyncio.Event()
        self.chain: ActorRef | None = None  # the ChainActor, for attached modules
        self.modules: dict[str, str] = {}  # optional module -> "ok" / "error: ..."

    async def start(self) -> None:
        """Open + integrity-check the store (StoreError = refuse to start), then spawn actors."""
        self.store = BlockStore(self.datadir, self.spec, durable="no-durability" not in self.bugs)
        try:
            await asyncio.to_thread(self.store.integrity_check)
        except BaseException:
            self.store.close()
            raise
        s = self.store
        self.head = View(Head(s.head_height, s.head_hash, s.head_header))  # no writer yet
        self.metrics.head.set(s.head_height)
        self.verifier = Verifier(
            self.spec.authorities,
            workers=self.verify_workers,
            skip="accept-bad-signatures" in self.bugs,
        )
        self.system = ActorSystem("alys-node", seed=self.rng.getrandbits(32))
        big = MailboxConfig(capacity=10_000)
        # the root supervisor respawns a critical actor beyond its restart intensity, or stops
        # the node (never half-alive); it also answers node_health and GET /health
        self.supervisor = RootSupervisor(self.system, self.request_stop, self.refs)
        spawn = self.supervisor.spawn
        self.refs["storage"] = await spawn(lambda: StorageActor(self.store), name="storage")
        self.refs["chain"] = await spawn(self._chain_actor, name="chain", mailbox=big)
        self.refs["sync"] = await spawn(self._sync_actor, name="sync", mailbox=big)
        self.refs["network"] = await spawn(lambda: NetworkActor(self), name="network", mailbox=big)
        self.refs["rpc"] = await spawn(lambda: RpcActor(self), name="rpc")
        self.chain = self.refs["chain"]
        for mod in OPTIONAL_ACTORS:
            try:
                m = importlib.import_module(mod)
            except ModuleNotFoundError as e:
                if e.name == mod or (e.name and mod.startswith(e.name + ".")):
                    continue
                raise
            try:
                await m.attach(self)
                self.modules[mod] = "ok"
            except Exception as e:  # an optional module must not take the node down
                self.modules[mod] = f"error: {e}"
                log.error(
                    "optional module failed to attach", extra={"module": mod, "error": repr(e)}
                )

    @property
    def syncing(self) -> bool:
        return self.sync_state.value

    def _chain_actor(self) -> ChainActor:
        return ChainActor(
            spec=self.spec,
            verifier=self.verifier,
            metrics=self.metrics,
            head=self.head,
            key=self.key,
            dev=self.dev,
        )

    def _sync_machine(self, committed: int) -> SyncMachine:
        sched = RangeScheduler(
            range_size=self.sync_range,
            per_peer=4,
            window=self.sync_window,
            stall_timeout=self.stall_timeout,
            reassign="no-range-reassign" not in self.bugs,
            single_source="single-source-sync" in self.bugs,
            committed=committed,
        )
        return SyncMachine(self.spec, sched, bugs=self.bugs)

    def _sync_actor(self) -> SyncActor:
        return SyncActor(
            machine=self._sync_machine,
            verifier=self.verifier,
            head=self.head,
            syncing=self.sync_state,
        )

    def request_stop(self) -> None:
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        try:
            self.supervisor.close()
            await self.system.shutdown(timeout=5.0)
        finally:
            self.verifier.close()
            self.store.close()

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
