"""Chain fixtures and per-test clusters shared by the sync and network harnesses.

Why templates: a sync test needs a source that already holds N real, signed blocks. Producing
them once per run (dev mode, through RPC) and copying the stopped producer's datadir gives every
test an identical source in a second instead of re-signing thousands of blocks per test.

Why the seeded bug is stripped from fixtures: the template chain is test *data*; the system
under test is every node a test launches, and only those get ``--seeded-bug``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...events import EventSink
from .launcher import ClusterError, NodeCluster

PRODUCE_BATCH = 250


@dataclass
class NodeTarget:
    """The node binary under test: a command template plus an optional seeded bug."""

    command: list[str]
    seeded_bug: str | None = None

    @classmethod
    def parse(cls, target: Any, default: Sequence[str]) -> NodeTarget:
        if isinstance(target, NodeTarget):
            return target
        cmd = list(default if target is None else target)
        bug = None
        if "--seeded-bug" in cmd:
            i = cmd.index("--seeded-bug")
            bug = cmd[i + 1] if i + 1 < len(cmd) else None
            del cmd[i : i + 2]
        return cls(cmd, bug)

    @property
    def bug_args(self) -> list[str]:
        return ["--seeded-bug", self.seeded_bug] if self.seeded_bug else []

    def argv(self, *args: str) -> list[str]:
        return [sys.executable if p == "{python}" else p for p in self.command] + list(args)


@dataclass
class ChainFixture:
    """One chain spec (authorities, checkpoint interval) and template chains built on it."""

    target: NodeTarget
    root: Path
    events: EventSink | None = None
    authorities: int = 1
    checkpoint_interval: int = 100
    chain_id: str = "alys-test"
    slot_ms: int = 2000
    spec_dir: Path | None = None
    templates: dict[int, Path] = field(default_factory=dict)
    template_heads: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def init_spec(self) -> Path:
        if self.spec_dir is not None:
            return self.spec_dir
        out = self.root / f"spec-k{self.checkpoint_interval}"
        out.mkdir(parents=True, exist_ok=True)
        argv = self.target.argv(
            "init-spec",
            "--authorities",
            str(self.authorities),
            "--out",
            str(out),
            "--chain-id",
            self.chain_id,
            "--slot-ms",
            str(self.slot_ms),
            "--checkpoint-interval",
            str(self.checkpoint_interval),
        )
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        if proc.returncode != 0 or not (out / "chain-spec.json").exists():
            msg = (stderr or stdout).decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise ClusterError(f"init-spec failed (exit {proc.returncode}): {msg[0]}")
        self.spec_dir = out
        return out

    @property
    def spec_file(self) -> Path:
        assert self.spec_dir is not None, "init_spec() first"
        return self.spec_dir / "chain-spec.json"

    def key_file(self, i: int = 0) -> Path:
        assert self.spec_dir is not None, "init_spec() first"
        return self.spec_dir / f"authority-{i}.key"

    def follower_args(self, bug: bool = True) -> list[str]:
        return ["--chain-spec", str(self.spec_file)] + (self.target.bug_args if bug else [])

    def producer_args(self, authority: int = 0, bug: bool = True) -> list[str]:
        return self.follower_args(bug) + ["--dev", "--authority-key", str(self.key_file(authority))]

    def new_cluster(self, name: str, seed: int = 0) -> NodeCluster:
        workdir = self.root / "clusters" / name
        if workdir.exists():
            shutil.rmtree(workdir, ignore_errors=True)
        return NodeCluster(self.target.command, workdir=workdir, events=self.events, seed=seed)

    async def template(self, height: int) -> Path:
        """A stopped producer's datadir holding ``height`` blocks (built once, then copied)."""
        if height in self.templates:
            return self.templates[height]
        await self.init_spec()
        base = max((h for h in self.templates if h < height), default=None)
        cluster = self.new_cluster(f"template-{height}")
        datadir = self.root / f"template-{height}"
        if base is not None:
            shutil.copytree(self.templates[base], datadir)
        try:
            node = await cluster.add_node(self.producer_args(bug=False), datadir=datadir)
            await produce(node, height)
            head = await node.call("chain_head")
            await cluster.stop(0)
        finally:
            await cluster.close()
        if int(head["height"]) != height:
            raise ClusterError(f"template producer reached {head['height']}, wanted {height}")
        self.templates[height] = datadir
        self.template_heads[height] = (int(head["height"]), head["hash"])
        return datadir

    def copy_template(self, height: int, dest: Path) -> Path:
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(self.templates[height], dest)
        return dest


async def produce(node: Any, up_to: int, batch: int = PRODUCE_BATCH) -> dict[str, Any]:
    """Ask a dev-mode node to produce until its head reaches ``up_to``."""
    head = await node.call("chain_head")
    while int(head["height"]) < up_to:
        n = min(batch, up_to - int(head["height"]))
        await node.call("dev_produceBlocks", n, timeout_s=120)
        head = await node.call("chain_head")
    return head


@contextlib.asynccontextmanager
async def attached_cluster(
    fixture: ChainFixture, out: Any, name: str, seed: int = 0, tail: int = 200
) -> AsyncIterator[NodeCluster]:
    """A cluster whose merged node logs are attached to the outcome if the test fails."""
    cluster = fixture.new_cluster(name, seed)
    failed = True
    try:
        yield cluster
        failed = bool(out.violations)
    finally:
        try:
            if failed:
                out.metrics["node_logs"] = cluster.merged_logs(tail=tail)
        finally:
            await cluster.close()
