"""The conformance vectors the harness judges with (consensus-spec-tests and execution-apis, CC0).

They ship inside the package, so an installed framework can judge a target without the
repository around it; ``$ALYS_LIGHTHOUSE_VECTORS`` or ``<test_data_dir>/lighthouse`` override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PACKAGED_VECTORS = Path(__file__).resolve().parents[3] / "data" / "lighthouse"


def find_vectors(config_dir: Path | None = None) -> Path | None:
    """The first directory holding ``ssz/``: the environment, the config's, the packaged one."""
    candidates = []
    if os.environ.get("ALYS_LIGHTHOUSE_VECTORS"):
        candidates.append(Path(os.environ["ALYS_LIGHTHOUSE_VECTORS"]))
    if config_dir is not None:
        candidates.append(config_dir / "lighthouse")
    candidates.append(PACKAGED_VECTORS)
    for c in candidates:
        if (c / "ssz").is_dir():
            return c
    return None


@dataclass(frozen=True)
class SszCase:
    fork: str
    name: str  # the container, e.g. ExecutionPayload
    preset: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.fork}/{self.name}/{self.path.name}"

    def value(self) -> Any:
        return yaml.safe_load((self.path / "value.yaml").read_text())

    def root(self) -> str:
        return str(yaml.safe_load((self.path / "roots.yaml").read_text())["root"])


def ssz_cases(vectors: Path | None) -> list[SszCase]:
    """Every ``ssz/<fork>/<Type>/<case>`` with a value.yaml (``minimal_*`` cases: minimal preset)."""
    root = vectors / "ssz" if vectors else None
    if root is None or not root.is_dir():
        return []
    out = []
    for case in sorted(root.glob("*/*/*")):
        if (case / "value.yaml").is_file():
            fork, name, cname = case.parts[-3:]
            preset = "minimal" if cname.startswith("minimal_") else "mainnet"
            out.append(SszCase(fork, name, preset, case))
    return out
