"""Puts the merchant API into an app (one call from ``create_app``): its sign-in, webhook, read
and signed-request routers, the index followers that write webhook events, the delivery worker
and its metrics."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

# Its models (the tables are made by the migrations).
import app.merchant.models
import app.merchant.request_models  # noqa: F401
from app.api.routing import add_routes
from app.index.runtime import IndexRuntime
from app.merchant.events import follow_index
from app.merchant.metrics import WebhookCollector
from app.merchant.reads_router import router as reads_router
from app.merchant.requests_router import router as requests_router
from app.merchant.siwe_router import router as siwe_router
from app.merchant.webhook_router import router as webhook_router
from app.merchant.worker import webhook_worker
from app.services import AppServices


def install_merchant(
    app: FastAPI, services: AppServices, index: IndexRuntime, metrics: CollectorRegistry
) -> None:
    follow_index(index.indexer.handlers)
    services.workers["webhooks"] = webhook_worker(services)
    add_routes(app, siwe_router, webhook_router, reads_router, requests_router)
    metrics.register(WebhookCollector(services))
