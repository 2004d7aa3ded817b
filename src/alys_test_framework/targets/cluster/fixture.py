"""Chain fixtures and per-test clusters shared by the sync and network harnesses.

Why templates: a sync test needs a source that already holds N real, signed blocks. Producing
them once (dev mode, through RPC) and copying the stopped producer's datadir gives every test
an identical source in a second instead of re-signing thousands of blocks per test.

Why a template cache between runs: the chain is test *data*, fully determined by the chain
spec (seeded keys) and the node build that wrote it. Kept under a key of exactly those, a second
run starts from the blocks the first one signed; a changed node build changes the key.

Why the seeded bug is stripped from fixtures: the template chain is test data; the system
under test is every node a test launches, and only those get ``--seeded-bug``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...checkers import CheckerBounds
from ...events import EventSink
from ...waiting import WaitTimeout, wait_until
from .errors import ClusterError
from .history_recorder import HistoryRecorder
from .launcher import DEFAULT_STALL_S, NodeCluster
from .node_process import NodeProcess, expand_command
from .observe import wait_self_produced
from .profiles import NEW_BLOCKS, REFERENCE, NodeProfile, ProfileUnsupported, get_profile
from .recording import Recording, judge

PRODUCE_BATCH = 250


@dataclass
class NodeTarget:
    """The node binary under test: a command template, its profile, an optional seeded bug."""

    command: list[str]
    seeded_bug: str | None = None
    profile: NodeProfile = REFERENCE

    @classmethod
    def parse(
        cls, target: Any, default: Sequence[str] | None, profile: str | NodeProfile = REFERENCE
    ) -> NodeTarget:
        if isinstance(target, NodeTarget):
            return target
        prof = get_profile(profile)
        cmd = list(target if target is not None else (default or prof.command))
        bug = None
        if "--seeded-bug" in cmd:
            i = cmd.index("--seeded-bug")
            bug = cmd[i + 1] if i + 1 < len(cmd) else None
            del cmd[i : i + 2]
        return cls(cmd, bug, prof)

    @property
    def bug_args(self) -> list[str]:
        return ["--seeded-bug", self.seeded_bug] if self.seeded_bug else []

    def argv(self, *args: str) -> list[str]:
        return expand_command(self.command) + list(args)

    def build_id(self) -> str:
        """What identifies the node build: the command, and for ``-m module`` its sources."""
        parts = [json.dumps(self.command)]
        if "-m" in self.command:
            module = self.command[self.command.index("-m") + 1]
            spec = importlib.util.find_spec(module.split(".")[0])
            roots = list(spec.submodule_search_locations or []) if spec else []
            for root in roots:
                for p in sorted(Path(root).rglob("*.py")):
                    st = p.stat()
                    parts.append(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "alys-test-framework" / "templates"


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
    seed: int = 0
    cache_dir: Path | None = None  # None: no cache between runs
    stall_s: float = DEFAULT_STALL_S
    spec_dir: Path | None = None
    templates: dict[int, Path] = field(default_factory=dict)
    template_heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    cache_hits: list[int] = field(default_factory=list)
    recording: Recording | None = None  # None: histories under root/history

    @property
    def profile(self) -> NodeProfile:
        return self.target.profile

    def _spec_args(self) -> list[str]:
        return [
            "--authorities", str(self.authorities), "--chain-id", self.chain_id,
            "--slot-ms", str(self.slot_ms), "--checkpoint-interval", str(self.checkpoint_interval),
            "--seed", f"fixture-{self.seed}",
        ]  # fmt: skip

    async def init_spec(self) -> Path:
        if self.spec_dir is not None:
            return self.spec_dir
        out = self.root / f"spec-k{self.checkpoint_interval}"
        out.mkdir(parents=True, exist_ok=True)
        argv = self.target.argv("init-spec", "--out", str(out), *self._spec_args())
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise ClusterError("init-spec did not finish within 60 s") from None
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
        return [self.profile.flag("chain_spec"), str(self.spec_file)] + (
            self.target.bug_args if bug else []
        )

    def producer_args(self, authority: int = 0, bug: bool = True) -> list[str]:
        """A producer: on demand (dev mode) when the profile serves ``dev_produceBlocks``,
        else an authority that produces in its own slots (Aura), as the real Alys node does."""
        dev = [self.profile.flag("dev")] if self.profile.serves("dev_produceBlocks") else []
        key = [self.profile.flag("authority_key"), str(self.key_file(authority))]
        return self.follower_args(bug) + dev + key

    def new_cluster(
        self,
        name: str,
        seed: int = 0,
        profile: NodeProfile | None = None,
        events: EventSink | None = None,
    ) -> NodeCluster:
        workdir = self.root / "clusters" / name
        if workdir.exists():
            shutil.rmtree(workdir, ignore_errors=True)
        return NodeCluster(
            self.target.command, workdir=workdir, events=events or self.events, seed=seed,
            profile=profile or self.profile, stall_s=self.stall_s,
        )  # fmt: skip

    def history_recording(self) -> Recording:
        if self.recording is None:
            self.recording = Recording(self.root / "history", self.root.name)
        return self.recording

    @property
    def builder_profile(self) -> NodeProfile:
        """Who writes the template chains: the target itself when its profile can produce
        blocks on demand, else the reference tooling (valid while the target reads the
        reference store, as the reference node serving the ``alys`` profile does)."""
        return self.profile if self.profile.serves("dev_produceBlocks") else REFERENCE

    # -- templates --------------------------------------------------------------------------
    def _cache_entry(self, height: int) -> Path | None:
        if self.cache_dir is None or self.spec_dir is None:
            return None
        spec = (self.spec_file).read_bytes()
        key = hashlib.sha256(
            b"\n".join([spec, self.target.build_id().encode(), str(height).encode()])
        ).hexdigest()[:24]
        return self.cache_dir / f"h{height}-{key}"

    async def template(self, height: int) -> Path:
        """A stopped producer's datadir holding ``height`` blocks (built once, then copied)."""
        if height in self.templates:
            return self.templates[height]
        await self.init_spec()
        datadir = self.root / f"template-{height}"
        entry = self._cache_entry(height)
        if entry is not None and (entry / "head.json").exists():
            await asyncio.to_thread(_fresh_copy, entry / "datadir", datadir)
            head = json.loads((entry / "head.json").read_text())
            self.cache_hits.append(height)
        else:
            head = await self._build(height, datadir)
            if entry is not None:
                await asyncio.to_thread(self._store, entry, datadir, head)
        self.templates[height] = datadir
        self.template_heads[height] = (int(head["height"]), head["hash"])
        return datadir

    async def _build(self, height: int, datadir: Path) -> dict[str, Any]:
        base = max((h for h in self.templates if h < height), default=None)
        builder = self.builder_profile
        cluster = self.new_cluster(f"template-{height}", profile=builder)
        src = self.templates[base] if base is not None else None
        await asyncio.to_thread(_fresh_copy, src, datadir)
        try:
            args = [builder.flag("chain_spec"), str(self.spec_file), builder.flag("dev")]
            args += [builder.flag("authority_key"), str(self.key_file(0))]
            node = await cluster.add_node(args, datadir=datadir)
            await produce(node, height)
            head: dict[str, Any] = await node.call("chain_head")
            await cluster.stop(0)
        finally:
            await cluster.close()
        if int(head["height"]) != height:
            raise ClusterError(f"template producer reached {head['height']}, wanted {height}")
        return {"height": int(head["height"]), "hash": head["hash"]}

    @staticmethod
    def _store(entry: Path, datadir: Path, head: dict[str, Any]) -> None:
        """Write the cache entry under a temporary name first: a crash leaves no half entry."""
        tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            shutil.copytree(datadir, tmp / "datadir")
            (tmp / "head.json").write_text(json.dumps(head))
            entry.parent.mkdir(parents=True, exist_ok=True)
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            tmp.rename(entry)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # a cache that cannot be written is no cache

    def copy_template(self, height: int, dest: Path) -> Path:
        _fresh_copy(self.templates[height], dest)
        return dest


def _fresh_copy(src: Path | None, dest: Path) -> None:
    """``dest`` becomes a copy of ``src`` (or an empty place for a new store when None)."""
    if dest.exists():
        shutil.rmtree(dest)
    if src is not None:
        shutil.copytree(src, dest)


async def produce(
    node: NodeProcess,
    up_to: int,
    batch: int = PRODUCE_BATCH,
    recorder: HistoryRecorder | None = None,
) -> dict[str, Any]:
    """Ask a dev-mode node to produce until its head reaches ``up_to`` (each acknowledgement
    recorded as a client operation when a recorder is given, so durability is judged)."""
    head: dict[str, Any] = await node.call("chain_head")
    while int(head["height"]) < up_to:
        n = min(batch, up_to - int(head["height"]))
        await produce_blocks(node, n, recorder)
        head = await node.call("chain_head")
    return head


async def produce_blocks(
    node: NodeProcess,
    n: int,
    recorder: HistoryRecorder | None = None,
    stall_s: float = DEFAULT_STALL_S,
) -> dict[str, Any]:
    """``dev_produceBlocks(n)``; through the test's recorder when there is one. A profile
    whose node produces by itself (``new_blocks`` without ``dev_produceBlocks``) waits for at
    least ``n`` new blocks instead (a stall after ``stall_s`` without one)."""
    if not node.profile.serves("dev_produceBlocks") and node.profile.supports(NEW_BLOCKS):
        return await wait_self_produced(node, n, stall_s)
    if recorder is not None:
        return await recorder.produce(node, n, timeout_s=120)
    res: dict[str, Any] = await node.call("dev_produceBlocks", n, timeout_s=120)
    return res


@contextlib.asynccontextmanager
async def attached_cluster(
    fixture: ChainFixture,
    out: Any,
    name: str,
    seed: int = 0,
    tail: int = 200,
    bounds: CheckerBounds | None = None,
) -> AsyncIterator[NodeCluster]:
    """A per-test cluster, torn down on every path, whose merged node logs are attached to the
    outcome if the test fails; its history is recorded and, after the test body's own checks,
    judged by every checker (``bounds``: what the scenario promises, see ``recording``).
    ``cluster.recorder`` is the test's HistoryRecorder (``produce`` acknowledgements go
    through it); a bound the test can only measure in its run (a gossip latency against the
    first hop) is set as ``cluster.checker_bounds`` and replaces the declared ones.

    Two endings are translated for the outcome (duck-typed: ``fail``, ``require``,
    ``unsupported``, ``record``): a wait that fails inside the test is the violated property it
    waited for (a stall names the height and peers), and an operation the node profile lacks
    ends the test as unsupported, never as a pass (and is not judged).
    """
    recording = fixture.history_recording()
    holder: list[NodeCluster] = []
    rec = HistoryRecorder(
        lambda: holder[0].nodes if holder else [], recording.path(name), poll_s=recording.poll_s
    )
    cluster = fixture.new_cluster(name, seed, events=rec.tap(fixture.events))
    holder.append(cluster)
    cluster.recorder = rec
    failed = True
    judged = False
    try:
        await rec.start()
        try:
            try:
                yield cluster
            except WaitTimeout as exc:
                out.require(False, f"{exc.what}", str(exc))
            except ProfileUnsupported as exc:
                out.unsupported(str(exc))
            judged = True
        except BaseException as exc:  # judged too, unless nothing was promised
            judged = not _unjudged(exc)
            raise
        finally:
            await rec.stop()  # the last observation, while every node still runs
            if judged:
                spec = fixture.spec_file if fixture.spec_dir is not None else None
                declared = cluster.checker_bounds or bounds
                judge(rec.history(), rec.path, spec, recording.bounds(declared), out)
                await judge_health(cluster, out)
        failed = bool(out.violations)
    finally:
        try:
            if failed or out.violations:
                out.metrics["node_logs"] = cluster.merged_logs(tail=tail)
        finally:
            await cluster.close()


async def judge_health(cluster: NodeCluster, out: Any, timeout_s: float = 10.0) -> None:
    """Every node still running (not paused) must report ``node_health`` ok at the end of a
    test: a node whose storage or chain actor died for good but still answers ``chain_head``
    is half-alive, and only its health says so. A recovering actor gets ``timeout_s``."""
    nodes = [n for n in cluster.nodes if n.running and n.state == "running"]
    if not nodes:
        return
    if not nodes[0].profile.supports("node_health"):
        out.record(node_health=f"unsupported by the {nodes[0].profile.name!r} profile")
        return
    bad: dict[str, Any] = {}

    async def healthy() -> bool:
        bad.clear()
        for n in nodes:
            if not n.running:
                continue
            try:
                h = await n.call("node_health", timeout_s=3.0)
            except Exception as exc:  # no answer is unhealthy too
                bad[n.name] = f"no answer ({type(exc).__name__}: {exc})"
                continue
            if not (isinstance(h, dict) and h.get("ok")):
                actors = h.get("actors", {}) if isinstance(h, dict) else {}
                sick = {a: v.get("state") for a, v in actors.items() if v.get("state") != "running"}
                bad[n.name] = (
                    f"state {h.get('state') if isinstance(h, dict) else h!r}, actors {sick}"
                )
        return not bad

    try:
        await wait_until(
            healthy, timeout_s, "every running node healthy", observe=lambda: dict(bad)
        )
        out.record(node_health="ok")
    except WaitTimeout:
        out.fail("node health (node_health ok on every running node)", "; ".join(
            f"{k}: {v}" for k, v in bad.items()))  # fmt: skip


def _unjudged(exc: BaseException) -> bool:
    """Unsupported (the test declared nothing) or cancelled (a timeout: finish quickly)."""
    return isinstance(exc, (asyncio.CancelledError, ProfileUnsupported)) or (
        type(exc).__name__ == "UnsupportedTest"
    )
