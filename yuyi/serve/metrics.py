"""Prometheus metrics, one registry per app (so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("yuyi_requests_total", "HTTP requests", ["endpoint", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("yuyi_request_seconds", "HTTP request latency", ["endpoint", "method", "status"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10))
        self.batch_size = Histogram("yuyi_batch_size", "texts per model call", registry=self.registry,
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.encode_seconds = Histogram("yuyi_encode_seconds", "model time per batch", registry=self.registry,
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.rejected = Counter("yuyi_rejected_total", "requests refused (429) because the model could not answer "
                                "within the deadline", registry=self.registry)
        self.degraded = Counter("yuyi_search_degraded_total", "hybrid searches answered from keywords alone",
                                ["reason"], registry=self.registry)
        self.rerank_seconds = Histogram("yuyi_rerank_seconds", "reranker time per request", registry=self.registry,
                                        buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5))
        self.rerank_skipped = Counter("yuyi_rerank_skipped_total", "searches answered un-reranked because reranking "
                                      "would have exceeded the budget", ["reason"], registry=self.registry)
        self.admission_correction = Gauge("yuyi_admission_correction", "observed ÷ estimated wait (99th "
                                          "percentile) applied before admitting a request", registry=self.registry)
        self.queue_depth = Gauge("yuyi_queue_depth", "texts waiting for or inside the model", registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
