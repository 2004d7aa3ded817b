"""A report.json with every kind of measurement the plots read, for plot and page tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def enrich(report: dict[str, Any]) -> dict[str, Any]:
    """A real report plus one test carrying sync progress, per-node latency, history, faults."""
    r = copy.deepcopy(report)
    phase = r["phases"][0]
    phase["tests"].append(
        {
            "name": "test_partition_heals",
            "harness": "network",
            "category": "partition",
            "status": "passed",
            "duration_s": 3.5,
            "message": "",
            "metrics": {
                "progress": {"node0": [[0, 0], [1, 40], [2, 100]], "node1": [[0, 0], [2, 60]]},
                "gossip_ms_by_node": {"node0": 12.5, "node1": 30.0, "node2": 18.0},
                "p50_ms": 10.0,
                "p95_ms": 25.0,
                "p99_ms": 40.0,
                "history": [
                    {"time": 0.1, "process": "node0", "type": "ok", "f": "produce"},
                    {"time": 0.9, "process": "node1", "type": "fail", "f": "read"},
                    {"time": 1.5, "process": "node1", "type": "ok", "f": "read"},
                ],
                "faults": [{"name": "partition halves", "start": 0.5, "end": 1.2}],
            },
        }
    )
    return r


def write_enriched(src_dir: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    report = json.loads((src_dir / "report.json").read_text())
    (dst / "report.json").write_text(json.dumps(enrich(report)))
    (dst / "work").mkdir(exist_ok=True)
    (dst / "work" / "node0.log").write_text("merged node log\n")
    return dst
