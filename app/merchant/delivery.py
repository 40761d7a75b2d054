"""The webhook deliverer: each cycle sends the deliveries that are due, one POST each, and
writes down what happened.

A 2xx answer delivers; anything else (another status, a timeout, a refused connection) is
retried with exponential backoff, ``webhook_first_retry_seconds`` doubling up to
``webhook_max_retry_seconds``, until ``webhook_retry_window_seconds`` after the first attempt,
when the delivery is marked failed (the last try falls on the window's end). Redirects are not
followed. One deliverer sends at a time per database (a lease, like the relayer's), and the
outcome of an attempt is written right after it: a crash in between sends that delivery again,
which is what the event id is for (at least once).

The clock is injected: a test moves it and runs a cycle, nothing sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import structlog
from sqlalchemy import select

from app.db.lease import LEASE_SECONDS, Lease
from app.db.session import Database
from app.merchant.destinations import non_public_address
from app.merchant.models import (
    DeliveryStatus,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventRow,
)
from app.merchant.request_notices import BATCH as NOTICE_BATCH
from app.merchant.request_notices import write_request_notices
from app.merchant.webhook_signing import SecretBox, delivery_headers
from app.settings import Environment, Settings

log = structlog.get_logger(__name__)

LEASE = "merchant-webhooks"
BATCH = 50
MAX_ERROR_CHARS = 200


class NonPublicDestination(Exception):
    """In production, an endpoint whose host resolves into the operator's own network."""


@dataclass
class DeliveryReport:
    """What one cycle did (delivery ids)."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    more_work: bool = False


@dataclass(frozen=True)
class _Due:
    delivery_id: int
    url: str
    secret_ciphertext: str
    event_id: str
    event_type: str
    body: str


def retry_delay(settings: Settings, attempts: int) -> float:
    """The pause after the ``attempts``-th failed attempt."""
    first = settings.webhook_first_retry_seconds
    return float(min(first * 2 ** min(attempts - 1, 60), settings.webhook_max_retry_seconds))


class WebhookDeliverer:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.box = SecretBox(settings)
        self.client = client or httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )
        # Held a little longer than one attempt may take, and asked for before each (a renewal
        # leaves two thirds of it, more than an attempt).
        self.lease = Lease(database, LEASE, clock, settings.webhook_timeout_seconds + LEASE_SECONDS)

    def run_once(self) -> DeliveryReport:
        """Sends what is due now (a batch at most); nothing while another one holds the lease."""
        report = DeliveryReport()
        if not self.lease.take():
            return report
        noticed = write_request_notices(self.database, self.clock())
        due = self._due(self.clock())
        report.more_work = len(due) == BATCH or noticed == NOTICE_BATCH
        for entry in due:
            if not self.lease.take():  # renewed before each attempt: a slow endpoint outlasts it
                report.more_work = True
                break
            self._deliver(entry, report)
        return report

    def release(self) -> None:
        self.lease.release()
        self.client.close()

    def _due(self, now: float) -> list[_Due]:
        with self.database.sessions() as session:
            rows = session.execute(
                select(
                    WebhookDeliveryRow.id,
                    WebhookEndpointRow.url,
                    WebhookEndpointRow.secret_ciphertext,
                    WebhookEventRow.id,
                    WebhookEventRow.type,
                    WebhookEventRow.body,
                )
                .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
                .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
                .where(
                    WebhookDeliveryRow.status == DeliveryStatus.PENDING,
                    WebhookDeliveryRow.next_attempt_at <= now,
                    WebhookEndpointRow.deleted_at.is_(None),
                )
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
                .limit(BATCH)
            )
            return [_Due(*row) for row in rows]

    def _deliver(self, entry: _Due, report: DeliveryReport) -> None:
        now = self.clock()
        body = entry.body.encode()
        status_code: int | None = None
        error: str | None = None
        try:
            secret = self.box.open(entry.secret_ciphertext)
            headers = delivery_headers(secret, body, entry.event_id, entry.event_type, int(now))
            status_code = self._post(entry.url, body, headers)
            if not 200 <= status_code < 300:
                error = f"the endpoint answered HTTP {status_code}"
        except Exception as failure:  # whatever one endpoint does fails alone; the queue goes on
            error = f"{type(failure).__name__}: {failure}"[:MAX_ERROR_CHARS]
        self._record(entry.delivery_id, now, status_code, error, report)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The answer's status. Its body is never read: a receiver that sends a slow or huge one
        holds nothing. In production, only to a public address (app.merchant.destinations)."""
        production = self.settings.environment is Environment.PRODUCTION
        if production and (address := non_public_address(url)) is not None:
            raise NonPublicDestination(f"the endpoint's host resolves to {address}, not public")
        with self.client.stream("POST", url, content=body, headers=headers) as answer:
            return answer.status_code

    def _record(
        self,
        delivery_id: int,
        now: float,
        status_code: int | None,
        error: str | None,
        report: DeliveryReport,
    ) -> None:
        with self.database.transaction() as session:
            row = session.get(WebhookDeliveryRow, delivery_id)
            if row is None or row.status != DeliveryStatus.PENDING:
                return  # cancelled, or taken back by a reorg, while it was being sent
            row.attempts += 1
            row.last_attempt_at = now
            row.last_status_code = status_code
            row.last_error = error
            if row.give_up_at is None:
                row.give_up_at = now + self.settings.webhook_retry_window_seconds
            if error is None:
                row.status = DeliveryStatus.DELIVERED
                report.delivered.append(delivery_id)
            elif now >= row.give_up_at:
                row.status = DeliveryStatus.FAILED
                report.failed.append(delivery_id)
            else:
                delay = retry_delay(self.settings, row.attempts)
                row.next_attempt_at = min(now + delay, row.give_up_at)
                report.retrying.append(delivery_id)
        log.info(
            "webhook_attempt",
            delivery=delivery_id,
            status_code=status_code,
            outcome="delivered" if error is None else "refused",
        )
