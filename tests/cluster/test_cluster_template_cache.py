"""Template chains are kept between runs under a key of the chain spec and the node build, and
a changed spec is a different key (never a stale chain)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alys_test_framework.targets.cluster.fixture import ChainFixture, NodeTarget

FAKE = str(Path(__file__).with_name("fake_node.py"))


def _fixture(root: Path, cache: Path, spec_text: str) -> ChainFixture:
    spec = root / "spec"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "chain-spec.json").write_text(spec_text)
    (spec / "authority-0.key").write_text("fake")
    fx = ChainFixture(NodeTarget(["{python}", FAKE]), root, cache_dir=cache)
    fx.spec_dir = spec
    return fx


def test_second_run_takes_the_template_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    async def build(root: str, spec: str) -> ChainFixture:
        fx = _fixture(tmp_path / root, cache, spec)
        await fx.template(7)
        return fx

    first = asyncio.run(build("run1", '{"chain": 1}'))
    second = asyncio.run(build("run2", '{"chain": 1}'))
    other = asyncio.run(build("run3", '{"chain": 2}'))
    assert first.cache_hits == [] and second.cache_hits == [7] and other.cache_hits == []
    assert second.template_heads[7] == first.template_heads[7]
    assert (second.templates[7] / "height").read_text() == "7"  # the copied store itself
    assert len([p for p in cache.iterdir() if p.name.startswith("h7-")]) == 2
