"""The layer rules are enforced: a forbidden import added to a copy of the tree breaks the check.

Each case copies src/ and pyproject.toml to a temp dir, adds one import the architecture forbids,
runs ``lint-imports`` against the copy and expects it to fail naming the contract and the module
that broke it. The clean copy is run too, so a case counts only if it turns a kept contract into
a broken one or adds the new module to a contract's list of violations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")

pytestmark = pytest.mark.skipif(not Path(LINT).exists(), reason="import-linter not installed")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    clean = lint(root)
    assert "Contracts:" in clean.stdout, clean.stdout + clean.stderr
    return root, clean.stdout


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def with_line(path: Path, line: str):
    """Append ``line`` to ``path``; returns an undo function."""
    original = path.read_text() if path.exists() else None
    path.write_text((original or "") + "\n" + line + "\n")

    def undo() -> None:
        if original is None:
            path.unlink()
        else:
            path.write_text(original)

    return undo


CASES = [
    (
        "alys_actors imports nothing of ours",
        "alys_actors/_layer_probe.py",
        "import alys_node  # noqa",
        "alys_actors._layer_probe",
    ),
    (
        "alys_node imports only alys_actors",
        "alys_node/_layer_probe.py",
        "import alys_test_framework.results  # noqa",
        "alys_node._layer_probe",
    ),
    (
        "harnesses reach systems under test only through targets",
        "alys_test_framework/harness/_layer_probe.py",
        "import alys_node.chain  # noqa",
        "alys_test_framework.harness._layer_probe",
    ),
    (
        "oracles and checkers never depend on a system under test",
        "alys_test_framework/oracles/_layer_probe.py",
        "import alys_actors  # noqa",
        "alys_test_framework.oracles._layer_probe",
    ),
    (
        "oracles and checkers never depend on a system under test",
        "alys_test_framework/checkers/_layer_probe.py",
        "import alys_test_framework.targets  # noqa",
        "alys_test_framework.checkers._layer_probe",
    ),
    (
        "framework layers",
        "alys_test_framework/results.py",
        "from . import framework  # noqa",
        "alys_test_framework.results",
    ),
]


@pytest.mark.parametrize(("contract", "file", "line", "module"), CASES, ids=[c[0] for c in CASES])
def test_forbidden_import_breaks_the_check(tree, contract, file, line, module):
    root, clean = tree
    assert module not in clean
    undo = with_line(root / "src" / file, line)
    try:
        broken = lint(root)
    finally:
        undo()
    assert broken.returncode != 0
    assert f"{contract} BROKEN" in broken.stdout, broken.stdout
    assert module in broken.stdout, broken.stdout


def test_an_import_cycle_breaks_the_check(tree):
    root, clean = tree
    contract = "no import cycles between sibling modules"
    assert "_cycle_probe" not in clean
    pkg = root / "src" / "alys_test_framework" / "_cycle_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b  # noqa\n")
    (pkg / "b.py").write_text("from . import a  # noqa\n")
    try:
        broken = lint(root)
    finally:
        shutil.rmtree(pkg)
    assert broken.returncode != 0
    assert f"{contract} BROKEN" in broken.stdout and "_cycle_probe" in broken.stdout
