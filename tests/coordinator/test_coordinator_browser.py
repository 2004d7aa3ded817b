"""The coordinator's pages in headless chromium: start a run, watch it finish, open its report."""

from __future__ import annotations

import pytest

from tests.reporting.browser import PageLog, browser  # noqa: F401 - the fixture

# a real browser driving a whole run: the slow tier (pytest -m slow); the API is test_coordinator_api.py
pytestmark = pytest.mark.slow


def test_start_a_run_from_the_page_and_open_its_report(browser, coordinator):  # noqa: F811
    page = browser.new_page()
    page.set_default_timeout(240_000)
    log = PageLog()
    log.attach(page)
    try:
        page.goto(coordinator.url + "/")
        page.check("input[name=phase][value=foundation]")
        page.select_option("#preset", "development")
        page.fill("#seed", "11")
        page.click("#start-button")
        page.wait_for_url("**/runs/job-*")
        job_id = page.url.rsplit("/", 1)[1]
        # a CSS wait (the pages' CSP forbids the eval a JS predicate would need)
        page.wait_for_selector(
            ", ".join(
                f"#state.{s}" for s in ("passed", "failed", "error", "cancelled", "interrupted")
            )
        )
        assert page.inner_text("#state") == "passed", page.inner_text("#facts")
        assert '"passed": 7' in page.inner_text("#summary")
        page.click("#report-link")
        page.wait_for_url(f"**/runs/{job_id}/report")
        page.evaluate("window.__plotsRendered")
        drawn = page.eval_on_selector_all(
            ".plot", "ds => ds.map(d => d.classList.contains('js-plotly-plot'))"
        )
        assert drawn and all(drawn)
        assert page.inner_text("#run-status") == "passed"
        # the runs list shows the job with its state
        page.goto(coordinator.url + "/")
        page.wait_for_selector(f"tr[data-job='{job_id}'] td.state.passed")
        assert log.errors == [], log.errors
        external = [u for u in log.requests if not u.startswith(coordinator.url)]
        assert external == [], external
    finally:
        page.close()
