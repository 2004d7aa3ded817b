"""report.html: one self-contained page a person can open from the file system.

Rules:
- built from report.json (plus, when available, the run history) alone: ``alys-test report DIR``
  rebuilds it at any time;
- self-contained: plotly.js is inlined from the installed plotly package and a
  Content-Security-Policy forbids every network request, so the page works offline and leaks
  nothing;
- data is embedded as JSON in a non-executed script tag, escaped so no value can close it.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .flaky import FlakyTest
from .json_report import atomic_write
from .plots import build_figures

# files of a run directory the page links to, when they exist
LINKED = [
    "report.json",
    "junit.xml",
    "events.jsonl",
    "coverage.json",
    "coverage/index.html",
    "coverage.lcov",
]


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle of the installed plotly package (no CDN, no download)."""
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    if bundle.is_file():  # read directly: importing plotly.offline costs half a second
        return bundle.read_text("utf-8")
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@lru_cache(maxsize=1)
def _template() -> str:
    return (resources.files(__package__) / "templates" / "report.html").read_text("utf-8")


def _embed(data: Any) -> str:
    text = json.dumps(data, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _links(report_dir: Path | None) -> list[dict[str, str]]:
    if report_dir is None:
        return []
    found = [name for name in LINKED if (report_dir / name).exists()]
    logs = sorted(p.relative_to(report_dir).as_posix() for p in report_dir.rglob("*.log"))
    return [{"href": name, "label": name} for name in found + logs[:200]]


def build_html(
    report: dict[str, Any],
    *,
    report_dir: Path | None = None,
    runs: list[dict[str, Any]] | None = None,
    bench_series: dict[str, list[tuple[float, float]]] | None = None,
    flaky: list[FlakyTest] | None = None,
    commit: str = "",
) -> str:
    data = {
        "report": report,
        "figures": build_figures(report, runs, bench_series),
        "flaky": [f.to_dict() for f in flaky or []],
        "links": _links(report_dir),
        "commit": commit,
    }
    page = _template()
    page = page.replace("__TITLE__", html.escape(str(report.get("run_id", ""))))
    page = page.replace("__DATA__", _embed(data))
    # last: the bundle is large and must not be searched for placeholders
    before, _, after = page.partition("__PLOTLY__")
    return before + plotly_js().replace("</script", "<\\/script") + after


def write_html_report(
    report_dir: Path, history_db: Path | None = None, trend_runs: int = 20
) -> Path:
    """(Re)build DIR/report.html from DIR/report.json and, if it exists, the history."""
    from .history import HistoryError, HistoryStore

    report = json.loads((report_dir / "report.json").read_text())
    runs: list[dict[str, Any]] = []
    series: dict[str, list[tuple[float, float]]] = {}
    flaky: list[FlakyTest] = []
    commit = str(report.get("commit", ""))
    if history_db is not None and history_db.exists():
        try:
            with HistoryStore(history_db) as store:
                runs = store.runs(trend_runs)
                series = store.benchmark_trend(trend_runs)
                flaky = store.flaky(trend_runs * 5)
        except HistoryError:
            pass  # a report without trends is still a report
    path = report_dir / "report.html"
    atomic_write(
        path,
        build_html(
            report,
            report_dir=report_dir,
            runs=runs,
            bench_series=series,
            flaky=flaky,
            commit=commit,
        ),
    )
    return path
