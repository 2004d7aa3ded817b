"""GET /metrics: the coordinator's Prometheus text, computed from the queue at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from .jobs import FAILED, PASSED, RUNNING, JobStore

BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class CoordinatorCollector(Collector):
    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        counts = self.jobs.counts()
        total = sum(counts.values())
        yield GaugeMetricFamily(
            "test_coordinator_total_runs", "Runs the coordinator has been asked for", value=total
        )
        yield GaugeMetricFamily(
            "test_coordinator_running_tests", "Runs executing now", value=counts.get(RUNNING, 0)
        )
        judged = counts.get(PASSED, 0) + counts.get(FAILED, 0)
        yield GaugeMetricFamily(
            "test_coordinator_success_rate",
            "Passed runs over passed + failed runs (0 when none has finished)",
            value=counts.get(PASSED, 0) / judged if judged else 0.0,
        )
        durations = [d for _, d in self.jobs.finished_durations()]
        buckets = [(str(b), float(sum(d <= b for d in durations))) for b in BUCKETS]
        buckets.append(("+Inf", float(len(durations))))
        hist = HistogramMetricFamily(
            "test_duration_seconds",
            "Wall time of finished runs",
            buckets=buckets,
            sum_value=sum(durations),
        )
        yield hist
        by_state = GaugeMetricFamily("test_coordinator_runs", "Runs by state", labels=["state"])
        for state, n in sorted(counts.items()):
            by_state.add_metric([state], n)
        yield by_state


def metrics_text(jobs: JobStore) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CoordinatorCollector(jobs))
    return generate_latest(registry)
