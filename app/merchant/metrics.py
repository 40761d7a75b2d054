"""The merchant API on ``/metrics``: webhook deliveries by status (pending ones piling up, or
failed ones growing, mean receivers that do not answer, or a deliverer that does not run), and
merchants' signed requests by status (queued ones piling up mean a relay that does not run, or a
keeper key out of gas)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.merchant.models import DeliveryStatus, WebhookDeliveryRow
from app.merchant.request_models import MerchantRequestRow
from app.outbox.models import OutboxRecord, RelayStatus
from app.services import AppServices


class WebhookCollector(Collector):
    """Read from the database at each scrape (two queries; no endpoint is called)."""

    def __init__(self, services: AppServices) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        with self.services.database.sessions() as session:
            counts = dict(
                session.execute(
                    select(WebhookDeliveryRow.status, func.count()).group_by(
                        WebhookDeliveryRow.status
                    )
                ).all()
            )
            requests = dict(
                session.execute(
                    select(OutboxRecord.status, func.count())
                    .join(MerchantRequestRow, MerchantRequestRow.outbox_id == OutboxRecord.id)
                    .group_by(OutboxRecord.status)
                ).all()
            )
        deliveries = GaugeMetricFamily(
            "trustmall_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status in DeliveryStatus:
            deliveries.add_metric([str(status)], float(counts.get(str(status), 0)))
        yield deliveries
        by_status = GaugeMetricFamily(
            "trustmall_merchant_requests", "Merchants' signed requests by status", labels=["status"]
        )
        for relay_status in RelayStatus:
            by_status.add_metric([str(relay_status)], float(requests.get(str(relay_status), 0)))
        yield by_status
