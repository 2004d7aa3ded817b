"""Thin wrapper kept for old habits: `python benchmarks/bls.py [--quick] [--save F] [--baseline F]`
is `alys-test bench --group crypto` (see src/alys_test_framework/bench/groups/crypto.py)."""

from __future__ import annotations

import sys

from alys_test_framework.bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--group", "crypto", *sys.argv[1:]]))
