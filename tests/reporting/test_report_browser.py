"""report.html in headless chromium: offline, every plot drawn, no console error, filterable."""

from __future__ import annotations

import json

import pytest

from .browser import PageLog, browser  # noqa: F401 - the fixture

# a real browser (about 3 min of a loaded 2-core machine): the slow tier, `pytest -m slow`
pytestmark = pytest.mark.slow

PLOTS_OF_A_FOUNDATION_RUN = {"plot-durations", "plot-latency", "plot-resources"}


def open_report(browser, path):  # noqa: F811
    page = browser.new_page()
    page.set_default_timeout(120_000)  # a 5 MB page on a loaded 2-core machine
    log = PageLog()
    log.attach(page)
    page.goto(path.as_uri())
    page.evaluate("window.__plotsRendered")
    return page, log


def test_report_renders_offline_with_every_plot(browser, foundation_run):  # noqa: F811
    run_dir, _ = foundation_run
    page, log = open_report(browser, run_dir / "report.html")
    try:
        assert log.requests == [(run_dir / "report.html").as_uri()], log.requests
        assert log.errors == [], log.errors
        plots = page.evaluate(
            "[...document.querySelectorAll('.plot')].map(d => ({id: d.id,"
            " drawn: d.classList.contains('js-plotly-plot'),"
            " svgs: d.querySelectorAll('svg.main-svg').length,"
            " traces: d.querySelectorAll('.trace').length}))"
        )
        assert PLOTS_OF_A_FOUNDATION_RUN <= {p["id"] for p in plots}, plots
        for p in plots:
            assert p["drawn"] and p["svgs"] >= 1 and p["traces"] >= 1, p
        assert page.evaluate("window.__plotErrors") == []
        report = json.loads((run_dir / "report.json").read_text())
        assert page.inner_text("#run-id") == report["run_id"]
        assert page.inner_text("#run-status") == "passed"
        # the validator gates are shown
        assert "FoundationPhaseValidator" in page.inner_text("#phases")
    finally:
        page.close()


def test_table_filters_and_sorts(browser, foundation_run):  # noqa: F811
    run_dir, _ = foundation_run
    page, _ = open_report(browser, run_dir / "report.html")
    try:
        rows = lambda: page.eval_on_selector_all(  # noqa: E731
            "#tests tbody tr", "rs => rs.map(r => r.children[3].textContent)"
        )
        assert len(rows()) == 7
        page.fill("#filter", "histogram")
        assert rows() == ["test_latency_histogram"]
        assert page.inner_text("#shown") == "1 of 7 tests"
        page.fill("#filter", "")
        page.select_option("#status-filter", "passed")
        assert len(rows()) == 7
        page.select_option("#status-filter", "")
        page.click("th[data-key=name]")
        assert rows() == sorted(rows())
        page.click("th[data-key=name]")
        assert rows() == sorted(rows(), reverse=True)
    finally:
        page.close()


def test_a_failing_run_shows_its_failure(browser, failing_run):  # noqa: F811
    """The page draws a failed, unsupported run too (and does not hide the failure)."""
    page, log = open_report(browser, failing_run / "report.html")
    try:
        assert log.errors == []
        assert page.inner_text("#run-status") == "failed"
        page.select_option("#status-filter", "unsupported")
        assert "test_needs_priorities" in page.inner_text("#tests tbody")
        page.select_option("#status-filter", "failed")
        assert "three letters" in page.inner_text("#tests tbody")
    finally:
        page.close()


def test_every_plot_kind_renders(browser, foundation_run, tmp_path):  # noqa: F811
    """Sync progress, per-node latency and the chaos timeline render too (synthetic data)."""
    from alys_test_framework.reporting.html import write_html_report

    from .synthetic import write_enriched

    run_dir, _ = foundation_run
    out = write_enriched(run_dir, tmp_path / "enriched")
    write_html_report(out)
    page, log = open_report(browser, out / "report.html")
    try:
        assert log.errors == []
        ids = page.eval_on_selector_all(
            ".plot.js-plotly-plot", "ds => ds.filter(d => d.querySelector('.trace')).map(d => d.id)"
        )
        assert {"plot-sync", "plot-per-node", "plot-chaos"} <= set(ids), ids
        assert page.eval_on_selector_all("#plot-chaos .shapelayer path", "ps => ps.length") >= 1
        assert "work/node0.log" in page.inner_text("#links")
    finally:
        page.close()
