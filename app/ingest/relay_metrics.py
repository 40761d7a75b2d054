"""The relay's figures, read from the database: how many records wait, fly or failed, how long the
oldest unconfirmed one has waited (for ``/v1/stats``), and the same on ``/metrics`` with the
journal's transactions by state. Read at each scrape, so an API process shows what a separate
worker process relays (``make serve`` beside ``make worker``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chain.journal import ChainTransaction, TxState
from app.outbox.models import OutboxRecord, RelayStatus
from app.services import AppServices
from app.stats.sources import RelayLagPublic


def relay_lag(session: Session) -> RelayLagPublic:
    """How many records wait, fly or failed, and how old the oldest unconfirmed one is."""
    counts = _record_counts(session)
    return RelayLagPublic(
        queued=counts.get(RelayStatus.QUEUED, 0),
        in_flight=counts.get(RelayStatus.SUBMITTED, 0),
        failed=counts.get(RelayStatus.FAILED, 0),
        oldest_unconfirmed_seconds=_oldest_unconfirmed_seconds(session),
    )


class RelayCollector(Collector):
    """Three queries at each scrape (the outbox counted over its status index, its oldest
    unconfirmed record, the journal counted by state); no chain call."""

    def __init__(self, services: AppServices) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        with self.services.database.sessions() as session:
            records = _record_counts(session)
            oldest = _oldest_unconfirmed_seconds(session)
            transactions = dict(
                session.execute(
                    select(ChainTransaction.state, func.count(ChainTransaction.id)).group_by(
                        ChainTransaction.state
                    )
                ).all()
            )
        by_status = GaugeMetricFamily(
            "trustmall_relay_records",
            "Outbox records by status (queued: not sent yet; submitted: in a transaction not yet "
            "at the confirmation depth)",
            labels=["status"],
        )
        for status in RelayStatus:
            by_status.add_metric([str(status)], float(records.get(status, 0)))
        yield by_status
        yield GaugeMetricFamily(
            "trustmall_relay_oldest_unconfirmed_seconds",
            "Seconds since the oldest record not yet confirmed or failed was accepted (0: none)",
            value=oldest or 0.0,
        )
        by_state = GaugeMetricFamily(
            "trustmall_chain_transactions",
            "The service's journalled transactions by state (pending and mined: open)",
            labels=["state"],
        )
        for state in TxState:
            by_state.add_metric([str(state)], float(transactions.get(state, 0)))
        yield by_state


def _record_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxRecord.status, func.count(OutboxRecord.id)).group_by(OutboxRecord.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def _oldest_unconfirmed_seconds(session: Session) -> float | None:
    oldest = session.scalar(
        select(func.min(OutboxRecord.id)).where(
            OutboxRecord.status.in_((RelayStatus.QUEUED, RelayStatus.SUBMITTED))
        )
    )
    if oldest is None:
        return None
    accepted = session.get_one(OutboxRecord, oldest).accepted_at
    # SQLite hands back naive datetimes; they were written in UTC.
    accepted = accepted if accepted.tzinfo else accepted.replace(tzinfo=UTC)
    return max(0.0, time.time() - accepted.timestamp())
