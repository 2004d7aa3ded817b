"""The coordinator's aiohttp application: JSON API, Prometheus metrics, pages.

Rules:
- loopback by default; bound to any other address it refuses to start without a bearer token,
  and then every route but /health needs ``Authorization: Bearer <token>`` (pages may pass
  ``?token=`` once, which sets a cookie);
- every error is a JSON object ``{"error": ...}`` with a 4xx status; an unexpected exception is
  logged and answered 500 with the same shape, never an HTML traceback;
- files are served only from a run's own report directory, by name from a fixed list.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from .. import __version__
from .jobs import QUEUED, RUNNING
from .metrics import metrics_text
from .pages import CSP, run_page, runs_page
from .requests import RequestError
from .service import Scheduler, SchedulerSettings

log = logging.getLogger("alys_test_framework.coordinator")

SCHEDULER: web.AppKey[Scheduler] = web.AppKey("scheduler", Scheduler)
TOKEN: web.AppKey[str | None] = web.AppKey("token")
REPORT_FILES = {
    "report": "report.html",
    "report.html": "report.html",
    "report.json": "report.json",
    "junit.xml": "junit.xml",
    "events.jsonl": "events.jsonl",
}
MAX_BODY = 64 * 1024


@dataclass
class CoordinatorSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    history_db: Path | None = None
    base_config: Path | None = None
    max_parallel: int = 1
    retries: int = 1
    retention_days: float = 14.0
    extra: dict[str, Any] = field(default_factory=dict)


class SettingsError(ValueError):
    """The service cannot start as configured (one line, exit 2)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(s: CoordinatorSettings) -> None:
    if not is_loopback(s.host) and not s.token:
        raise SettingsError(
            f"binding {s.host} (not loopback) needs a bearer token: pass --token or set "
            "ALYS_TEST_COORDINATOR_TOKEN"
        )
    if s.max_parallel < 1:
        raise SettingsError("max_parallel must be at least 1")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason if exc.text is None else _reason(exc))
    except RequestError as exc:
        return _error(400, str(exc))
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return _error(500, "internal error (logged by the coordinator)")


def _reason(exc: web.HTTPException) -> str:
    text = exc.text or exc.reason
    return text.removeprefix(f"{exc.status}: ") if text else exc.reason


@web.middleware
async def bearer_auth(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    token = request.app[TOKEN]
    if token is None or request.path == "/health":
        return await handler(request)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    given = given or request.cookies.get("alys_token", "") or request.query.get("token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _error(401, "missing or wrong bearer token")
    response = await handler(request)
    if "token" in request.query:
        response.set_cookie("alys_token", token, httponly=True, samesite="Strict")
    return response


async def _json_body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"request body is not JSON: {exc}") from None


def _job_or_404(request: web.Request) -> Any:
    scheduler = request.app[SCHEDULER]
    job = scheduler.jobs.get(request.match_info["id"])
    if job is None:
        raise web.HTTPNotFound(text=f"no run {request.match_info['id']!r}")
    return job


def _job_doc(scheduler: Scheduler, job: Any) -> dict[str, Any]:
    doc = job.to_dict()
    doc["report"] = scheduler.report_summary(job)
    doc["links"] = {
        "self": f"/test-runs/{job.id}",
        "cancel": f"/test-runs/{job.id}/cancel",
        "page": f"/runs/{job.id}",
        "report": f"/runs/{job.id}/report",
    }
    return doc


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def status(request: web.Request) -> web.Response:
    s = request.app[SCHEDULER]
    counts = s.jobs.counts()
    return web.json_response(
        {
            "version": __version__,
            "running": counts.get(RUNNING, 0),
            "queued": counts.get(QUEUED, 0),
            "max_parallel": s.settings.max_parallel,
            "total_runs": sum(counts.values()),
            "states": counts,
        }
    )


async def list_runs(request: web.Request) -> web.Response:
    s = request.app[SCHEDULER]
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise RequestError("limit must be an integer") from None
    if not 1 <= limit <= 1000:
        raise RequestError("limit must be between 1 and 1000")
    jobs = s.jobs.recent(limit, request.query.get("state"))
    return web.json_response({"runs": [_job_doc(s, j) for j in jobs]})


async def create_run(request: web.Request) -> web.Response:
    s = request.app[SCHEDULER]
    job = s.submit(await _json_body(request))
    return web.json_response(_job_doc(s, job), status=202)


async def get_run(request: web.Request) -> web.Response:
    return web.json_response(_job_doc(request.app[SCHEDULER], _job_or_404(request)))


async def cancel_run(request: web.Request) -> web.Response:
    s = request.app[SCHEDULER]
    job = _job_or_404(request)
    job = await s.cancel(job.id)
    return web.json_response(_job_doc(s, job))


async def metrics(request: web.Request) -> web.Response:
    body = metrics_text(request.app[SCHEDULER].jobs)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _html(text: str) -> web.Response:
    return web.Response(
        text=text, content_type="text/html", headers={"Content-Security-Policy": CSP}
    )


async def page_runs(request: web.Request) -> web.Response:
    return _html(runs_page())


async def page_run(request: web.Request) -> web.Response:
    return _html(run_page(_job_or_404(request).id))


async def run_file(request: web.Request) -> web.StreamResponse:
    job = _job_or_404(request)
    name = request.match_info.get("name", "report")
    if name == "output.log":
        path = request.app[SCHEDULER].settings.data_dir / "runs" / job.id / "output.log"
    elif name in REPORT_FILES and job.report_dir:
        path = Path(job.report_dir) / REPORT_FILES[name]
    else:
        raise web.HTTPNotFound(text=f"no file {name!r} for run {job.id}")
    if not path.is_file():
        raise web.HTTPNotFound(text=f"run {job.id} has no {path.name} yet")
    return web.FileResponse(path)


def build_app(settings: CoordinatorSettings) -> web.Application:
    check_settings(settings)
    app = web.Application(middlewares=[json_errors, bearer_auth], client_max_size=MAX_BODY)
    app[TOKEN] = settings.token
    history_db = settings.history_db or settings.data_dir / "history.sqlite"

    async def lifecycle(app: web.Application) -> Any:
        scheduler = Scheduler(
            SchedulerSettings(
                data_dir=settings.data_dir,
                history_db=history_db,
                base_config=settings.base_config,
                max_parallel=settings.max_parallel,
                retries=settings.retries,
                retention_days=settings.retention_days,
            )
        )
        app[SCHEDULER] = scheduler
        await scheduler.start()
        yield
        await scheduler.stop()

    app.cleanup_ctx.append(lifecycle)
    app.add_routes(
        [
            web.get("/health", health),
            web.get("/status", status),
            web.get("/test-runs", list_runs),
            web.post("/test-runs", create_run),
            web.get("/test-runs/{id}", get_run),
            web.post("/test-runs/{id}/cancel", cancel_run),
            web.get("/metrics", metrics),
            web.get("/", page_runs),
            web.get("/runs/{id}", page_run),
            web.get("/runs/{id}/report", run_file),
            web.get("/runs/{id}/files/{name}", run_file),
        ]
    )
    return app


async def _serve(settings: CoordinatorSettings, ready: Callable[[str], None]) -> None:
    app = build_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    addresses = [s for s in runner.addresses]
    host, port = addresses[0][:2] if addresses else (settings.host, settings.port)
    ready(f"http://{host}:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # cancels running jobs: partial reports kept, processes gone


def serve(settings: CoordinatorSettings, ready: Callable[[str], None] = print) -> None:
    """Run until SIGINT/SIGTERM; ``ready`` gets the URL once the socket listens."""
    check_settings(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(settings, ready))
