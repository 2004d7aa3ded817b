"""The report's plots, as plotly figure dicts built from report.json values alone.

Rules:
- a plot is drawn only from numbers a run measured; a plot with no data is left out, never
  drawn empty or filled with placeholders;
- harness metrics are read by convention, so any harness can add a plot by recording:
  ``p50*`` / ``p95*`` / ``p99*`` (latency percentiles), ``progress`` = {node: [[t, height], …]}
  (sync progress), ``*_by_node`` = {node: number} (per-node latency), ``history`` =
  [{"time", "process", "type", "f"}] and ``faults`` = [{"name", "start", "end"}] (the chaos
  timeline, drawn in Jepsen's manner: operations and fault windows on one time axis);
- each figure is a plain dict {id, title, data, layout}: no plotly Python objects, so building
  a report needs no plotting library, only the vendored plotly.js that draws it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

Figure = dict[str, Any]

STATUS_COLORS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "error": "#ad1457",
    "skipped": "#f9a825",
    "unsupported": "#6a1b9a",
    "not_implemented": "#4e342e",
}


def _tests(report: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for phase in report.get("phases", []):
        for test in phase.get("tests", []):
            yield phase["phase"], test


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _fig(fid: str, title: str, data: list[dict[str, Any]], **layout: Any) -> Figure:
    base = {
        "title": {"text": title},
        "margin": {"l": 60, "r": 60, "t": 50, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
    }
    return {"id": fid, "title": title, "data": data, "layout": {**base, **layout}}


def durations(report: dict[str, Any]) -> Figure | None:
    tests = list(_tests(report))
    if not tests:
        return None
    by_status: dict[str, tuple[list[str], list[float]]] = {}
    for phase, t in tests:
        names, secs = by_status.setdefault(t["status"], ([], []))
        names.append(f"{phase} · {t['harness']}.{t['name']}")
        secs.append(t["duration_s"])
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": status,
            "y": names,
            "x": secs,
            "marker": {"color": STATUS_COLORS.get(status, "#555")},
        }
        for status, (names, secs) in by_status.items()
    ]
    height = max(300, 18 * len(tests) + 120)
    return _fig(
        "plot-durations",
        "Test durations (s)",
        data,
        height=height,
        barmode="stack",
        yaxis={"automargin": True},
        xaxis={"title": {"text": "seconds"}},
    )


def latency(report: dict[str, Any]) -> Figure | None:
    """p50 / p95 / p99 of every test that measured percentiles (HDR or sorted samples)."""
    rows: dict[str, dict[str, float]] = {}
    for _, t in _tests(report):
        for key, value in t.get("metrics", {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            for p in ("p50", "p95", "p99"):
                if key.startswith(p) and ("ms" in key or key == p):
                    label = f"{t['harness']}.{t['name']}" + (
                        "" if key in (f"{p}_ms", p) else f" {key[len(p) :].strip('_')}"
                    )
                    rows.setdefault(label, {})[p] = float(value)
    if not rows:
        return None
    labels = sorted(rows)
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "marker": {"size": 10},
            "name": p,
            "x": labels,
            "y": [rows[lb].get(p) for lb in labels],
        }
        for p in ("p50", "p95", "p99")
    ]
    return _fig(
        "plot-latency",
        "Latency percentiles (ms)",
        data,
        yaxis={"title": {"text": "ms"}, "type": "log"},
        xaxis={"automargin": True},
    )


def resources(report: dict[str, Any]) -> Figure | None:
    timeline = report.get("metrics", {}).get("resources", {}).get("timeline") or []
    if len(timeline) < 2:
        return None
    xs = [_iso(row[0]) for row in timeline]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "RSS MiB",
            "x": xs,
            "y": [row[1] for row in timeline],
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "children RSS MiB",
            "x": xs,
            "y": [row[3] for row in timeline],
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "CPU %",
            "x": xs,
            "y": [row[2] for row in timeline],
            "yaxis": "y2",
        },
    ]
    return _fig(
        "plot-resources",
        "Resource usage over the run (psutil samples)",
        data,
        yaxis={"title": {"text": "MiB"}},
        yaxis2={"title": {"text": "CPU %"}, "overlaying": "y", "side": "right"},
    )


def sync_progress(report: dict[str, Any]) -> Figure | None:
    data = []
    for _, t in _tests(report):
        progress = t.get("metrics", {}).get("progress")
        if not isinstance(progress, dict):
            continue
        for node, points in progress.items():
            pts = [p for p in points if isinstance(p, list | tuple) and len(p) == 2]
            if pts:
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "name": f"{t['name']} · {node}",
                        "x": [p[0] for p in pts],
                        "y": [p[1] for p in pts],
                    }
                )
    if not data:
        return None
    return _fig(
        "plot-sync",
        "Sync progress per node",
        data,
        xaxis={"title": {"text": "seconds since start"}},
        yaxis={"title": {"text": "height"}},
    )


def per_node(report: dict[str, Any]) -> Figure | None:
    data = []
    for _, t in _tests(report):
        for key, value in t.get("metrics", {}).items():
            if not key.endswith("_by_node") or not isinstance(value, dict):
                continue
            nodes = [n for n, v in value.items() if isinstance(v, int | float)]
            if nodes:
                data.append(
                    {
                        "type": "bar",
                        "name": f"{t['name']} {key[: -len('_by_node')]}",
                        "x": nodes,
                        "y": [value[n] for n in nodes],
                    }
                )
    if not data:
        return None
    return _fig(
        "plot-per-node", "Per-node measurements (gossip latency and others)", data, barmode="group"
    )


def chaos_timeline(report: dict[str, Any]) -> Figure | None:
    """Jepsen-style: one row per process, operations as points, fault windows as bands."""
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for _, t in _tests(report):
        m = t.get("metrics", {})
        ops = [o for o in m.get("history", []) if isinstance(o, dict) and "time" in o]
        by_type: dict[str, list[dict[str, Any]]] = {}
        for op in ops:
            by_type.setdefault(str(op.get("type", "op")), []).append(op)
        for typ, items in by_type.items():
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{t['name']} {typ}",
                    "x": [o["time"] for o in items],
                    "y": [str(o.get("process", "?")) for o in items],
                    "text": [str(o.get("f", "")) for o in items],
                }
            )
        for fault in m.get("faults", []):
            if isinstance(fault, dict) and "start" in fault:
                shapes.append(
                    {
                        "type": "rect",
                        "xref": "x",
                        "yref": "paper",
                        "x0": fault["start"],
                        "x1": fault.get("end", fault["start"]),
                        "y0": 0,
                        "y1": 1,
                        "fillcolor": "rgba(198,40,40,0.15)",
                        "line": {"width": 0},
                        "label": {"text": str(fault.get("name", "fault"))},
                    }
                )
    if not data and not shapes:
        return None
    return _fig(
        "plot-chaos",
        "Chaos timeline: operations and fault windows",
        data,
        shapes=shapes,
        xaxis={"title": {"text": "seconds"}},
    )


def trends(runs: list[dict[str, Any]]) -> Figure | None:
    """Success rate and duration of the runs in the history, oldest first."""
    if len(runs) < 2:
        return None
    runs = sorted(runs, key=lambda r: r["started_at"])
    xs = [_iso(r["started_at"]) for r in runs]
    rate = [
        (r["passed"] / (r["tests_total"] - r["skipped"])) * 100
        if r["tests_total"] - r["skipped"] > 0
        else None
        for r in runs
    ]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "success rate %",
            "x": xs,
            "y": rate,
            "text": [r["id"] for r in runs],
        },
        {
            "type": "bar",
            "name": "duration s",
            "x": xs,
            "y": [r["duration_s"] for r in runs],
            "yaxis": "y2",
            "opacity": 0.4,
        },
    ]
    return _fig(
        "plot-trends",
        "Trend over recent runs",
        data,
        yaxis={"title": {"text": "% passed"}, "range": [0, 105]},
        yaxis2={"title": {"text": "s"}, "overlaying": "y", "side": "right"},
    )


def benchmark_trends(series: dict[str, list[tuple[float, float]]]) -> Figure | None:
    """Throughput and latency metrics across runs, each relative to its first value."""
    data = []
    for metric, points in sorted(series.items()):
        if len(points) < 2 or not points[0][1]:
            continue
        first = points[0][1]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": metric,
                "x": [_iso(p[0]) for p in points],
                "y": [p[1] / first * 100 for p in points],
            }
        )
    if not data:
        return None
    return _fig(
        "plot-benchmarks",
        "Benchmarks across runs (% of the first run)",
        data[:40],
        yaxis={"title": {"text": "% of first"}},
    )


def benchmarks(report: dict[str, Any]) -> Figure | None:
    throughput = report.get("metrics", {}).get("performance", {}).get("throughput", {})
    if not throughput:
        return None
    names = sorted(throughput)
    return _fig(
        "plot-throughput",
        "Throughput measured in this run",
        [{"type": "bar", "x": names, "y": [throughput[n] for n in names]}],
        yaxis={"type": "log", "title": {"text": "per second"}},
        xaxis={"automargin": True},
    )


def build_figures(
    report: dict[str, Any],
    runs: list[dict[str, Any]] | None = None,
    bench_series: dict[str, list[tuple[float, float]]] | None = None,
) -> list[Figure]:
    candidates = [
        durations(report),
        latency(report),
        resources(report),
        sync_progress(report),
        per_node(report),
        chaos_timeline(report),
        benchmarks(report),
        trends(runs or []),
        benchmark_trends(bench_series or {}),
    ]
    return [f for f in candidates if f is not None]
