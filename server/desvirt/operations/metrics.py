"""Prometheus metrics: requests by route template and status, latency, and outbox depth.

With several worker processes each process writes its samples to files under
`PROMETHEUS_MULTIPROC_DIR` (`desvirt serve --workers N` sets it up) and a scrape, answered
by whichever worker, adds them all up; with one process the samples live in memory.
"""

from __future__ import annotations

import functools
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from desvirt.operations.workers import MULTIPROCESS_ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "desvirt_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "desvirt_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request; unknown routes share one label, so 404 scans stay cheap."""
    method = method if method in KNOWN_METHODS else "OTHER"
    requests, latency = _series(method, route or UNMATCHED_ROUTE, status)
    requests.inc()
    latency.observe(seconds)


@functools.cache
def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    # prometheus_client looks the labels up on every call; routes are templates, so few.
    return REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)


def exposition(outbox_depth: int) -> bytes:
    """The text a Prometheus scrape receives: this process's (or all workers') samples."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        samples = generate_latest(registry)
    else:
        samples = generate_latest(REGISTRY)
    return samples + generate_latest(_OutboxSnapshot(outbox_depth).registry())


class _OutboxSnapshot:
    """The outbox depth read from the database at scrape time: one truth for all workers."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def collect(self) -> list[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "desvirt_outbox_depth", "Mails in the outbox that have not been sent yet."
        )
        gauge.add_metric([], self.depth)
        return [gauge]

    def registry(self) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return registry
