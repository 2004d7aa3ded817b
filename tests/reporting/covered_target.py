"""A tiny 'system under test' for the coverage tests: some lines run in process, some only in a
subprocess, one function never."""

from __future__ import annotations

import sys


def in_process() -> int:
    return sum(range(10))


def in_subprocess() -> int:
    return sum(range(20))


def never_called() -> int:  # the uncovered lines the report must name
    total = 0
    for i in range(3):
        total += i
    return total


if __name__ == "__main__":
    sys.exit(0 if in_subprocess() == 190 else 1)
