"""The webhook deliverer as a background task of the app: a cycle in a worker thread, then the
next at once while there is more due, else after ``webhook_poll_seconds``; growing pauses while
the database fails. Without a webhook encryption key it is off, logged once."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from app.merchant.delivery import WebhookDeliverer
from app.merchant.webhook_signing import WebhookKeyUnavailable
from app.outbox.worker import MAX_BACKOFF_SECONDS, in_thread
from app.services import AppServices, Worker

log = structlog.get_logger(__name__)


async def deliver_forever(services: AppServices) -> None:
    settings = services.settings
    try:
        deliverer = WebhookDeliverer(services.database, settings)
    except WebhookKeyUnavailable as error:
        log.warning("webhooks_disabled", reason=str(error))
        return
    backoff = settings.webhook_poll_seconds
    try:
        while True:
            try:
                report = await in_thread(deliverer.run_once)
                delay = 0.0 if report.more_work else settings.webhook_poll_seconds
                backoff = settings.webhook_poll_seconds
            except Exception as error:
                log.warning(
                    "webhook_cycle_failed", error_type=type(error).__name__, retry_in=backoff
                )
                delay, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
            await asyncio.sleep(delay)
    finally:
        with contextlib.suppress(Exception):
            await in_thread(deliverer.release)


def webhook_worker(services: AppServices) -> Worker:
    """The app's webhook delivery loop (registered in ``services.workers``)."""
    return lambda: deliver_forever(services)
