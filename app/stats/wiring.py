"""Puts the stats into an app (one call from the ops wiring): the counters the indexer keeps,
the clock and rendered answers, ``/v1/stats``, the dashboard pages and their series."""

from __future__ import annotations

from fastapi import FastAPI

import app.stats.models  # noqa: F401  (its tables are in the migrations)
from app.api.routing import add_routes
from app.index.runtime import IndexRuntime
from app.stats.api import router as stats_router
from app.stats.counters import DashboardCounters
from app.stats.dashboard_api import router as dashboard_router
from app.stats.runtime import StatsRuntime
from app.stats.sources import StatsSources


def install_stats(app: FastAPI, index: IndexRuntime) -> None:
    sources = StatsSources()
    app.state.stats_sources = sources
    index.indexer.derived.add(DashboardCounters())
    app.state.stats = StatsRuntime(
        index.database, sources, index.chain, index.settings.stats_refresh_seconds
    )
    add_routes(app, stats_router, dashboard_router)
