"""Plots are drawn from measured values only, and every convention a harness may use works."""

from __future__ import annotations

import json

from alys_test_framework.reporting.html import build_html
from alys_test_framework.reporting.plots import build_figures

from .synthetic import enrich


def figures_by_id(report, **kw):
    return {f["id"]: f for f in build_figures(report, **kw)}


def test_every_convention_becomes_a_plot(foundation_run):
    run_dir, _ = foundation_run
    report = enrich(json.loads((run_dir / "report.json").read_text()))
    figs = figures_by_id(report)
    assert {
        "plot-durations",
        "plot-latency",
        "plot-resources",
        "plot-sync",
        "plot-per-node",
        "plot-chaos",
    } <= set(figs)
    sync = {t["name"]: t for t in figs["plot-sync"]["data"]}
    assert sync["test_partition_heals · node0"]["y"] == [0, 40, 100]
    chaos = figs["plot-chaos"]
    assert chaos["layout"]["shapes"][0]["x0"] == 0.5 and chaos["layout"]["shapes"][0]["x1"] == 1.2
    assert {d["name"] for d in chaos["data"]} == {
        "test_partition_heals ok",
        "test_partition_heals fail",
    }
    lat = {d["name"]: d for d in figs["plot-latency"]["data"]}
    i = lat["p99"]["x"].index("network.test_partition_heals")
    assert lat["p99"]["y"][i] == 40.0


def test_no_data_no_plot(foundation_run):
    run_dir, _ = foundation_run
    report = json.loads((run_dir / "report.json").read_text())
    for p in report["phases"]:
        p["tests"] = []
    report["metrics"]["resources"]["timeline"] = []
    report["metrics"]["performance"]["throughput"] = {}
    assert build_figures(report) == []


def test_trends_need_two_runs():
    run = {
        "started_at": 1.0,
        "passed": 7,
        "tests_total": 7,
        "skipped": 0,
        "duration_s": 2.0,
        "id": "a",
    }
    assert figures_by_id({}, runs=[run]) == {}
    figs = figures_by_id({}, runs=[run, {**run, "id": "b", "started_at": 2.0, "passed": 6}])
    assert figs["plot-trends"]["data"][0]["y"] == [100.0, 6 / 7 * 100]


def test_embedded_data_cannot_close_the_script(foundation_run):
    run_dir, _ = foundation_run
    report = json.loads((run_dir / "report.json").read_text())
    report["phases"][0]["tests"][0]["message"] = "</script><script>alert(1)</script>"
    page = build_html(report)
    data = page.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "alert(1)" in data and "<" not in data
