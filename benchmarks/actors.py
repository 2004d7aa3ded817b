"""Thin wrapper kept for old habits: `python benchmarks/actors.py [--quick] [--save F] [--baseline F]`
is `alys-test bench --group actor` (see src/alys_test_framework/bench/groups/actor.py)."""

from __future__ import annotations

import sys

from alys_test_framework.bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--group", "actor", *sys.argv[1:]]))
