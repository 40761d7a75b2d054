"""Prometheus ``/metrics``: HTTP metrics (``app.ops.http_metrics``) and the index's progress, on a
registry of the app's own (several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator

from app.index.indexer import Indexer
from app.ops.http_metrics import HttpMetrics, HttpMetricsMiddleware


class IndexCollector(Collector):
    """The indexer's progress as it last saw it (no chain or database call per scrape)."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer

    def collect(self) -> Iterator[Metric]:
        status = self.indexer.status
        if status.head is not None:
            yield GaugeMetricFamily(
                "trustmall_chain_head_block", "Latest block the indexer saw", value=status.head
            )
        if status.last_block is not None:
            yield GaugeMetricFamily(
                "trustmall_index_last_block", "Last block indexed", value=status.last_block
            )
        if status.head is not None and status.last_block is not None:
            yield GaugeMetricFamily(
                "trustmall_index_lag_blocks",
                "Blocks between the head and the last indexed block",
                value=max(0, status.head - status.last_block),
            )
        yield CounterMetricFamily(
            "trustmall_index_rollbacks", "Reorg roll-backs", value=status.rollbacks
        )
        yield CounterMetricFamily(
            "trustmall_index_logs", "Events indexed", value=status.logs_indexed
        )
        yield GaugeMetricFamily(
            "trustmall_index_healthy",
            "1 when the last indexer cycle reached the chain",
            value=0 if status.last_error else 1,
        )


def install_metrics(app: FastAPI, indexer: Indexer) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(IndexCollector(indexer))
    # Request counts and latencies by handler, method and status class. Not the instrumentator's
    # middleware: the metric functions it was given registered on prometheus_client's global
    # registry, which this endpoint does not serve, and it matched every route again per request.
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry))
    Instrumentator(registry=registry).expose(app, include_in_schema=False)
    return registry
