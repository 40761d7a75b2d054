"""Prometheus ``/metrics``: HTTP metrics (prometheus-fastapi-instrumentator) and the index's
progress, on a registry of the app's own (several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics

from app.index.indexer import Indexer


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
    # Request counts and latencies by handler, method and status class; the default set's
    # request and response size histograms cost a fifth of an item lookup and say little here.
    instrumentator = Instrumentator(registry=registry, excluded_handlers=["/metrics"])
    instrumentator.add(metrics.requests()).add(metrics.latency())
    instrumentator.instrument(app).expose(app, include_in_schema=False)
    return registry
