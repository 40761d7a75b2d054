"""Puts ingestion and the relay into an app (one call from ``create_app``): the carriers'
endpoint, the relay status endpoint, the relayer worker, and the relay lag for ``/v1/stats``."""

from __future__ import annotations

import time
from datetime import UTC

import structlog
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import app.chain.journal
import app.ingest.models
import app.outbox.models  # noqa: F401  (its tables are in the migrations)
from app.api.routing import add_routes
from app.ingest.router import router as logistics_router
from app.outbox.models import OutboxRecord, RelayStatus
from app.outbox.router import router as relay_router
from app.outbox.worker import relayer_worker
from app.services import AppServices
from app.settings import SourceKind
from app.stats.sources import RelayLagPublic, provide_relay_lag

log = structlog.get_logger(__name__)


def install_ingest_and_relay(app: FastAPI, services: AppServices) -> None:
    services.workers["relayer"] = relayer_worker(services)
    add_routes(app, logistics_router, relay_router)
    provide_relay_lag(app, relay_lag)
    for name, source in services.settings.sources.items():
        if source.kind is SourceKind.CARRIER and not source.merchants:
            # Said at start: a carrier configured before `merchants` existed loses its pre-sale
            # custody events (app.ingest.custody_scope) until its merchants are listed.
            log.warning("carrier_moves_no_merchants_goods", source=name, reach="its open orders")


def relay_lag(session: Session) -> RelayLagPublic:
    """How many records wait, fly or failed, and how old the oldest unconfirmed one is."""
    counts = dict(
        session.execute(
            select(OutboxRecord.status, func.count(OutboxRecord.id)).group_by(OutboxRecord.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxRecord.id)).where(
            OutboxRecord.status.in_((RelayStatus.QUEUED, RelayStatus.SUBMITTED))
        )
    )
    age: float | None = None
    if oldest is not None:
        accepted = session.get_one(OutboxRecord, oldest).accepted_at
        # SQLite hands back naive datetimes; they were written in UTC.
        accepted = accepted if accepted.tzinfo else accepted.replace(tzinfo=UTC)
        age = max(0.0, time.time() - accepted.timestamp())
    return RelayLagPublic(
        queued=int(counts.get(RelayStatus.QUEUED, 0)),
        in_flight=int(counts.get(RelayStatus.SUBMITTED, 0)),
        failed=int(counts.get(RelayStatus.FAILED, 0)),
        oldest_unconfirmed_seconds=age,
    )
