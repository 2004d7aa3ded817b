"""The ``alys-test`` command line.

Bad input (unknown phase, bad config, unwritable report dir, bad option, a plugin that does not
load, a file that is not what the command reads) ends with exit code 2 and one line naming the
problem. SIGINT (Ctrl-C) and SIGTERM write partial reports and exit 130 / 143.

Error handling relies only on typer's public API (``typer.Exit``, ``typer.Abort``) and on the
documented shape of click's exceptions (``exit_code`` and ``format_message()``), never on where
a typer release keeps its click: typer 0.29 vendors click and dropped ``click.exceptions.Exit``
from that copy, which once turned every error into a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from .config import ConfigError, TestConfig
from .events import EventLogError, TestEvent
from .harness.registry import PluginError, load_registry
from .phases import MigrationPhase
from .results import RunResult

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Validate the Alys V2 migration phase by phase on real targets.",
)
config_app = typer.Typer(help="Show or validate configurations.")
baseline_app = typer.Typer(help="Manage performance baselines.")
app.add_typer(config_app, name="config")
app.add_typer(baseline_app, name="baseline")


def _help_without_command(ctx: typer.Context) -> None:
    """A group called bare prints its help (exit 0), like ``no_args_is_help`` without the
    exception type that differs between click copies."""
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help(), markup=False, highlight=False)
        raise typer.Exit(0)


for _group in (app, config_app, baseline_app):
    _group.callback(invoke_without_command=True)(_help_without_command)

# exit codes of a run ended by a signal: 128 + the signal's number, as a shell reports it
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}

# Rich assumes 80 columns when output is not a terminal (CI logs, pipes); the result table needs
# a little more to stay on one line per phase
_WIDTH = None if sys.stdout.isatty() else 110
console = Console(stderr=False, highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 110)


class UsageProblem(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _fail(message: str) -> NoReturn:
    raise UsageProblem(message)


def _load_config(
    config: Path | None,
    preset: str | None,
    seed: int | None,
    continue_on_failure: bool | None = None,
    fail_fast: bool | None = None,
) -> TestConfig:
    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    if continue_on_failure:
        overrides["continue_on_failure"] = True
    if fail_fast:
        overrides["fail_fast"] = True
    try:
        return TestConfig.load(path=config, preset=preset, overrides=overrides)
    except ConfigError as exc:
        _fail(str(exc))


def _prepare_report_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        _fail(f"report dir {path} is not writable: {exc.strerror or exc}")
    return path


PROGRESS_EVERY_S = 5.0


class Progress:
    """Prints each test as it finishes, from the event stream, and what long work waits for
    (``progress`` events), at most every few seconds."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last_progress = 0.0

    def __call__(self, event: TestEvent) -> None:
        if self.quiet:
            return
        md = event.metadata
        if event.type == "phase_started":
            console.print(f"[bold]▶ {md['phase']}[/bold]")
        elif event.type == "test_finished":
            mark = {
                "passed": "[green]✓[/green]",
                "skipped": "[yellow]-[/yellow]",
                "unsupported": "[magenta]∅[/magenta]",
            }.get(md["status"], "[red]✗[/red]")
            line = (
                f"  {mark} {event.source}.{md['test']} [dim]({md.get('duration_s', 0):.2f} s)[/dim]"
            )
            if md["status"] not in ("passed", "skipped") and md.get("message"):
                line += f" [red]{_short(md['message'])}[/red]"
            console.print(line)
        elif event.type == "progress":  # long work says what it waits for, every few s
            now = time.monotonic()
            if now - self._last_progress >= PROGRESS_EVERY_S:
                self._last_progress = now
                console.print(f"    [dim]… {event.source}.{md.get('test', '?')}: "
                              f"{md.get('waiting_for', '')}[/dim]")  # fmt: skip
        elif event.type == "phase_finished":
            color = (
                "green"
                if md["status"] == "passed"
                else "yellow"
                if md["status"] == "skipped"
                else "red"
            )
            msg = f" {_short(md['message'])}" if md.get("message") else ""
            console.print(f"  [{color}]{md['status'].upper()}[/{color}]{msg}")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _result_table(result: RunResult) -> Table:
    table = Table(title=f"alys-test run {result.run_id} (seed {result.seed})")
    table.add_column("phase", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for col in ("tests", "pass", "fail", "skip", "unsup", "secs", "gates"):
        table.add_column(col, justify="right")
    for p in result.phases:
        m = p.metrics
        color = "green" if p.passed else "yellow" if p.status.value == "skipped" else "red"
        ok = sum(v.status.value == "passed" for v in p.verdicts)
        judged = sum(v.status.value != "skipped" for v in p.verdicts)
        verdicts = f"{ok}/{judged}" if p.verdicts else "-"
        if judged < len(p.verdicts):  # e.g. no performance baseline stored yet
            verdicts += f" +{len(p.verdicts) - judged} skip"
        table.add_row(
            p.phase.value,
            f"[{color}]{p.status.value}[/{color}]",
            str(m.run),
            str(m.passed),
            str(m.failed + m.errors),
            str(m.skipped),
            str(m.unsupported),
            f"{p.duration_s:.1f}",
            verdicts or "-",
        )
    return table


@app.command()
def run(
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help="Phase to run (repeatable); default: all")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="default | development | ci_cd")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file")] = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Where reports go")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for every random choice")] = None,
    continue_on_failure: Annotated[bool, typer.Option("--continue-on-failure")] = False,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast", help="Stop each harness at its first FAILED test (the rest skipped)"
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the result table")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this harness test (repeatable), e.g. a failing one"),
    ] = None,
    reproduce: Annotated[
        str | None,
        typer.Option("--reproduce", help="Replay one property case: the replay_token of a report"),
    ] = None,
    include_pytest: Annotated[
        list[Path] | None,
        typer.Option(
            "--include-pytest", help="Also run this pytest path (repeatable) as a harness"
        ),
    ] = None,
) -> None:
    """Run the selected phases; exit 0 iff every selected phase passed its validators."""
    from .framework import MigrationTestFramework, new_run_id
    from .properties import BadReplayToken, ReplayToken

    phases = []
    for name in phase or []:
        try:
            phases.append(MigrationPhase.parse(name))
        except ValueError as exc:
            _fail(str(exc))
    cfg = _load_config(config, preset, seed, continue_on_failure, fail_fast)
    try:
        registry = load_registry(cfg)
    except PluginError as exc:
        _fail(str(exc))
    if reproduce is not None:
        try:
            ReplayToken.parse(reproduce)
        except BadReplayToken as exc:
            _fail(str(exc))
    for path in include_pytest or []:
        if not path.exists():
            _fail(f"--include-pytest {path}: no such file or directory")
    if only:
        phases = _phases_with_tests(registry, phases, only)
    run_id = new_run_id(cfg.seed)
    out_dir = _prepare_report_dir(report_dir or Path("alys-test-reports") / run_id)
    fw = MigrationTestFramework(
        cfg, report_dir=out_dir, registry=registry, run_id=run_id, progress=Progress(quiet),
        only=only, reproduce=reproduce, include_pytest=include_pytest or (),
    )  # fmt: skip
    with fw:
        result = fw.run(phases or None)
    console.print(_result_table(result))
    for g in result.gates:
        console.print(f"{g.validator}: {g.status.value}: {g.message}")
    console.print(f"reports: {out_dir}/report.html, report.json, junit.xml, events.jsonl")
    if result.interrupted:
        err.print(f"interrupted by {result.signal or 'SIGINT'}: partial reports written")
        raise typer.Exit(SIGNAL_EXIT.get(result.signal, 130))
    if not result.passed:
        for p in result.phases:
            if not p.passed and p.status.value != "skipped":
                err.print(f"[red]FAILED[/red] {p.phase.value}: {_short(p.message, 400)}")
        for g in result.gates:
            if g.failed:
                err.print(f"[red]FAILED[/red] {g.validator}: {_short(g.message, 400)}")
        raise typer.Exit(1)


def _phases_with_tests(
    registry: Any, phases: list[MigrationPhase], only: list[str]
) -> list[MigrationPhase]:
    """The phases (of those asked for, else all) holding the --only tests; unknown names exit 2."""
    from .phases import PHASE_ORDER

    found: dict[str, list[MigrationPhase]] = {}
    for ph in phases or PHASE_ORDER:
        for factory in registry.factories(ph):
            for name, _, _ in getattr(factory, "test_methods", list)():
                found.setdefault(name, []).append(ph)
    unknown = [n for n in only if n not in found]
    if unknown:
        where = ", ".join(p.value for p in phases) if phases else "any phase"
        _fail(f"--only: no harness test named {', '.join(unknown)} in {where}")
    return sorted({ph for n in only for ph in found[n]}, key=PHASE_ORDER.index)


@app.command()
def chaos(
    duration: Annotated[
        float | None, typer.Option("--duration", min=1.0, help="Seconds of chaos injection")
    ] = None,
    events: Annotated[
        str | None, typer.Option("--events", help="ChaosEvent names, comma-separated")
    ] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", min=2, help="Cluster size")] = None,
    producers: Annotated[
        int | None,
        typer.Option("--producers", min=1, help="Authorities producing (default 2: forks)"),
    ] = None,
    network: Annotated[
        str | None,
        typer.Option("--network", help="Network faults: auto (kernel where root) | proxy | kernel"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the schedule")] = None,
    preset: Annotated[str | None, typer.Option(help="default | development | ci_cd")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file")] = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Where chaos_report.json goes")
    ] = None,
) -> None:
    """Run a seeded chaos schedule on a real cluster; exit 0 iff it passed (codes as run)."""
    import asyncio
    import signal as _signal
    import time as _time

    from .chaos import ChaosRun, settings_from_config

    cfg = _load_config(config, preset, seed)
    try:
        names = [n for n in (events or "").split(",") if n.strip()]
        settings = settings_from_config(cfg, duration, names or None, nodes, producers, network)
        settings.schedule()  # a bad node/producer count is one clear line, not a traceback
    except ValueError as exc:
        _fail(str(exc))
    out_dir = _prepare_report_dir(report_dir or Path("alys-test-reports") / f"chaos-{cfg.seed}")
    got: dict[str, str] = {}
    started_at = _time.time()

    async def main() -> Any:
        task = asyncio.ensure_future(ChaosRun(settings, out_dir / "work", log=console.print).run())
        loop = asyncio.get_running_loop()

        def stop(sig: _signal.Signals) -> None:
            got.setdefault("sig", sig.name)
            task.cancel()

        for sig in (_signal.SIGINT, _signal.SIGTERM):
            loop.add_signal_handler(sig, stop, sig)
        return await task

    try:
        report = asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt):
        err.print(f"interrupted by {got.get('sig', 'SIGINT')}: faults lifted, cluster stopped")
        raise typer.Exit(SIGNAL_EXIT.get(got.get("sig", "SIGINT"), 130)) from None
    path = report.write(out_dir / "chaos_report.json")
    from .chaos.run_report import write_run_reports

    write_run_reports(report, cfg, out_dir, started_at, out_dir / "work")
    d = report.to_json()
    console.print(
        f"availability {d['availability']:.3f}  MTTF {d['mttf_s']} s  MTTR {d['mttr_s']} s  "
        f"resilience {d['resilience_score']}"
    )
    for r in report.events:
        console.print(f"  {r.status:<11} {r.event['type']:<26} {','.join(r.event['targets'])}  "
                      f"{_short(r.detail, 110)}", markup=False)  # fmt: skip
    console.print(f"reports: {path}, {out_dir}/report.json, report.html, junit.xml")
    if not report.passed:
        for line in report.failures():
            err.print(f"FAILED {_short(line, 400)}", markup=False)
        raise typer.Exit(1)


@config_app.command("show")
def config_show(
    preset: Annotated[str | None, typer.Option(help="default | development | ci_cd")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file to load")] = None,
) -> None:
    """Print the effective configuration as TOML."""
    cfg = _load_config(config, preset, None)
    sys.stdout.write(cfg.to_toml())


@config_app.command("validate")
def config_validate(file: Annotated[Path, typer.Argument(help="TOML config file")]) -> None:
    """Check a config file; exit 2 with the problem named if it is invalid."""
    try:
        TestConfig.from_toml(file)
    except ConfigError as exc:
        _fail(str(exc))
    console.print(f"{file}: valid")


@app.command()
def replay(events: Annotated[Path, typer.Argument(help="events.jsonl of a run")]) -> None:
    """Rebuild the run summary from the event log alone and print it as JSON."""
    from .reporting import replay_summary

    if not events.is_file():
        _fail(f"{events}: no such event log")
    try:
        summary = replay_summary(events)
    except (EventLogError, OSError) as exc:
        _fail(str(exc))
    sys.stdout.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")


@app.command()
def report(
    report_dir: Annotated[Path, typer.Argument(help="A run's report directory")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file")] = None,
) -> None:
    """Rebuild DIR/report.html from DIR/report.json (and the run history, for trends)."""
    from .reporting import history_path, write_html_report

    if not (report_dir / "report.json").is_file():
        _fail(f"{report_dir}: no report.json in this directory")
    cfg = _load_config(config, None, None)
    try:
        path = write_html_report(report_dir, history_path(cfg), cfg.reporting.trend_runs)
    except (ValueError, KeyError, TypeError) as exc:
        _fail(f"{report_dir / 'report.json'}: not an alys-test report: {exc}")
    except OSError as exc:
        _fail(f"{report_dir}: cannot write report.html: {exc.strerror or exc}")
    console.print(f"wrote {path}")


@app.command()
def history(
    last: Annotated[int, typer.Option("--last", min=1, help="Show the last N runs")] = 20,
    test: Annotated[
        str | None, typer.Option("--test", help="One test's results (name or harness.name)")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="History database file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file")] = None,
) -> None:
    """List recorded runs (or one test across runs) and flag flaky tests."""
    from .reporting import history_path
    from .reporting.history import HistoryError, HistoryStore

    path = db or history_path(_load_config(config, None, None))
    if not path.exists():
        _fail(f"{path}: no run history yet (runs are recorded when they write reports)")
    try:
        with HistoryStore(path) as store:
            rows = store.test_history(test, last) if test else store.runs(last)
            flaky = store.flaky(last * 5)
    except HistoryError as exc:
        _fail(str(exc))
    if as_json:
        doc = {"rows": rows, "flaky": [f.to_dict() for f in flaky]}
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        return
    flaky_names = {f.test for f in flaky}
    if test:
        table = Table(title=f"{test}: last {len(rows)} results")
        for col in ("run", "status", "secs", "commit", "flaky", "message"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["run_id"],
                r["status"],
                f"{r['duration_s']:.2f}",
                r["commit_sha"][:10],
                "yes" if f"{r['harness']}.{r['name']}" in flaky_names else "",
                _short(r["message"], 60),
            )
    else:
        table = Table(title=f"last {len(rows)} runs ({path})")
        for col in ("run", "status", "tests", "pass", "fail", "err", "skip", "unsup", "secs"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["id"],
                r["status"],
                *(str(r[k]) for k in ("tests_total", "passed", "failed", "errors", "skipped")),
                str(r["unsupported"]),
                f"{r['duration_s']:.1f}",
            )
    console.print(table)
    for f in flaky:
        seen = ", ".join(f"{s} x{len(ids)}" for s, ids in f.statuses.items())
        console.print(f"[yellow]flaky[/yellow] {f.test} at {f.commit[:10]}: {seen}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 = any free)")] = 8080,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ALYS_TEST_COORDINATOR_TOKEN",
            help="Bearer token; required when HOST is not loopback",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Runs, reports and the history database")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Base config every requested run starts from")
    ] = None,
    max_parallel: Annotated[int, typer.Option("--max-parallel", min=1)] = 1,
    retries: Annotated[int, typer.Option(min=0, help="Retries of a crashed run")] = 1,
    retention_days: Annotated[float, typer.Option("--retention-days", min=0.0)] = 14.0,
) -> None:
    """Serve the test coordinator: queue runs over HTTP, watch them, read their reports."""
    from .coordinator import CoordinatorSettings
    from .coordinator import serve as run_service
    from .coordinator.app import SettingsError
    from .reporting.history import default_history_path

    if config is not None:
        _load_config(config, None, None)  # a bad base config is the user's error, now
    settings = CoordinatorSettings(
        data_dir=data_dir or default_history_path().parent / "coordinator",
        host=host,
        port=port,
        token=token,
        base_config=config,
        max_parallel=max_parallel,
        retries=retries,
        retention_days=retention_days,
    )
    try:
        run_service(settings, lambda url: console.print(f"coordinator listening on {url}"))
    except SettingsError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@app.command()
def bench(
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="actor, sync, system or crypto (repeatable; default all)"),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller sizes (about 3 min)")] = False,
    save: Annotated[
        Path | None, typer.Option("--save", help="Write this run as a baseline")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Judge this run against a saved baseline")
    ] = None,
    profile: Annotated[
        bool, typer.Option("--profile", help="py-spy flamegraphs and a memory profile")
    ] = False,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Where bench.json goes")
    ] = None,
    major_pct: Annotated[float, typer.Option("--major-pct", min=0.0)] = 10.0,
    critical_pct: Annotated[float, typer.Option("--critical-pct", min=0.0)] = 25.0,
    enforce_goals: Annotated[
        bool, typer.Option("--enforce-goals", help="A missed performance goal exits 1 too")
    ] = False,
) -> None:
    """Benchmark the targets, each figure beside a floor measured in the same run."""
    from .bench.cli import BenchUsageError, bench_command

    try:
        code = bench_command(
            group, quick, save, baseline, profile, report_dir, major_pct, critical_pct,
            enforce_goals,
        )  # fmt: skip
    except BenchUsageError as exc:
        _fail(str(exc))
    raise typer.Exit(code)


@baseline_app.command("save")
def baseline_save(
    report: Annotated[Path, typer.Argument(help="report.json of a run")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Baseline file; default: the config's baseline_file"),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
) -> None:
    """Write a performance baseline from a report's measured metrics."""
    from .validators import save_baseline

    doc: dict[str, Any] = {}
    try:
        doc = json.loads(report.read_text())
    except (OSError, ValueError) as exc:
        _fail(f"{report}: cannot read report: {exc}")
    target = out or _load_config(config, None, None).performance.baseline_file
    if target is None:
        raise UsageProblem("no --out given and the config has no performance.baseline_file")
    count = save_baseline(doc, target)
    console.print(f"wrote {count} metrics to {target}")


def _one_line(exc: BaseException) -> str:
    """click's documented message of a usage error, or the exception text."""
    fmt = getattr(exc, "format_message", None)
    text = fmt() if callable(fmt) else str(exc)
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point: turns every user error into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        rc = app(args=args, prog_name="alys-test", standalone_mode=False)
    except UsageProblem as exc:
        err.print(f"alys-test: error: {exc}", markup=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        return 130
    except Exception as exc:
        code = getattr(exc, "exit_code", None)
        if isinstance(code, int) and callable(getattr(exc, "format_message", None)):
            # a click usage error (bad option, missing argument, bad value): the user's input
            err.print(f"alys-test: error: {_one_line(exc)}", markup=False, soft_wrap=True)
            return 2 if code in (0, 1) else code
        if isinstance(code, int):  # click's own Exit, whichever copy of click raised it
            return code
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
