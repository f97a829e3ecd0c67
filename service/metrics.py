"""Prometheus metrics of one app: request counts and latency by route and status, index size.

Each app owns its `CollectorRegistry` (tests build several apps in one process; the global
registry would refuse duplicate metric names).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from index.engine import Engine

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# Retrieval takes tens of milliseconds; the buckets resolve that range and the slow tail.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The metric families of one app, registered in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ragqa_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ragqa_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.documents = Gauge(
            "ragqa_index_documents", "Documents in the loaded index.", registry=self.registry
        )
        self.passages = Gauge(
            "ragqa_index_passages", "Passages (chunks) in the loaded index.", registry=self.registry
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def set_index(self, engine: Engine) -> None:
        self.documents.set(len(engine.contents.documents()))
        self.passages.set(engine.n_passages)

    def render(self) -> bytes:
        return generate_latest(self.registry)
