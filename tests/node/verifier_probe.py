"""Child-process check of the verification pool (run by test_node_chain.py): forged blocks are
located, a SIGKILLed worker is survived, and the skipping (seeded-bug) verifier accepts all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: tests.node.*

from alys_node.chain.spec import AuthorityKey, ChainSpec  # noqa: E402
from alys_node.verification import Verifier  # noqa: E402
from tests.node.chainkit import build_chain, outsider_key  # noqa: E402


async def main(spec_dir: Path) -> None:
    spec = ChainSpec.load(spec_dir / "chain-spec.json")
    key = AuthorityKey.load(spec_dir / "authority-0.key")
    chain = build_chain(spec, key, 70)
    forged = build_chain(spec, outsider_key(), 1, parent=chain[68])[0]
    v = Verifier(spec.authorities, workers=1)
    try:
        v.chunk = 16
        assert await v.first_invalid(chain) is None
        assert await v.first_invalid(chain[:69] + [forged]) == 69
        killed = 0
        for p in psutil.Process().children():
            if "spawn_main" in " ".join(p.cmdline()):
                os.kill(p.pid, signal.SIGKILL)
                killed += 1
        assert killed == 1, killed
        assert await v.first_invalid(chain[:69] + [forged]) == 69
        assert await v.first_invalid(chain) is None  # the rebuilt pool works
    finally:
        v.close()
    skipping = Verifier(spec.authorities, skip=True)
    assert await skipping.first_invalid(build_chain(spec, outsider_key(), 6)) is None
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
