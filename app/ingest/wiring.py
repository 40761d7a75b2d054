"""Puts ingestion and the relay into an app (one call from ``create_app``): the carriers'
endpoint, the relay status endpoint, the relayer worker, the relay lag for ``/v1/stats`` and the
relay's figures on ``/metrics``."""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

import app.chain.journal
import app.ingest.models
import app.outbox.models  # noqa: F401  (its tables are in the migrations)
from app.api.routing import add_routes
from app.ingest.relay_metrics import RelayCollector, relay_lag
from app.ingest.router import router as logistics_router
from app.outbox.router import router as relay_router
from app.outbox.worker import relayer_worker
from app.services import AppServices
from app.settings import SourceKind
from app.stats.sources import provide_relay_lag

log = structlog.get_logger(__name__)


def install_ingest_and_relay(
    app: FastAPI, services: AppServices, metrics: CollectorRegistry
) -> None:
    services.workers["relayer"] = relayer_worker(services)
    add_routes(app, logistics_router, relay_router)
    provide_relay_lag(app, relay_lag)
    metrics.register(RelayCollector(services))
    for name, source in services.settings.sources.items():
        if source.kind is SourceKind.CARRIER and not source.merchants:
            # Said at start: a carrier configured before `merchants` existed loses its pre-sale
            # custody events (app.ingest.custody_scope) until its merchants are listed.
            log.warning("carrier_moves_no_merchants_goods", source=name, reach="its open orders")
