"""The test coordinator: `alys-test serve`, an HTTP service that queues and runs test runs.

``jobs`` is the queue's state in the run-history database, ``requests`` validates what a
client asks for, ``runner`` executes one run as an `alys-test run` subprocess, ``service``
schedules them, ``app`` is the aiohttp application (API, Prometheus metrics, pages).
"""

from .app import CoordinatorSettings, build_app, serve

__all__ = ["CoordinatorSettings", "build_app", "serve"]
