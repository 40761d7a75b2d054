"""The keeper on ``/metrics``: duties by state and the lag of the oldest one not done."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.keeper.overview import keeper_figures
from app.services import AppServices


class KeeperCollector(Collector):
    """Read from the database at each scrape (a few indexed queries; no chain call)."""

    def __init__(self, services: AppServices) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        with self.services.database.sessions() as session:
            figures = keeper_figures(session, self.services.settings)
        duties = GaugeMetricFamily(
            "trustmall_keeper_duties",
            "Keeper duties by state (due: due by the index and not queued yet)",
            labels=["state"],
        )
        for state, count in sorted(figures.counts.items()):
            duties.add_metric([state], count)
        yield duties
        yield GaugeMetricFamily(
            "trustmall_keeper_lag_seconds",
            "Block-time seconds since the oldest duty due and not done became due (0: none)",
            value=figures.lag_seconds or 0.0,
        )
