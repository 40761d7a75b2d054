"""Puts the keeper into an app (one call from ``create_app``): its worker, ``GET /v1/keeper`` and
its metrics on the app's Prometheus registry."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.api.routing import add_routes
from app.keeper.metrics import KeeperCollector
from app.keeper.router import router as keeper_router
from app.keeper.worker import keeper_worker
from app.services import AppServices


def install_keeper(app: FastAPI, services: AppServices, metrics: CollectorRegistry) -> None:
    services.workers["keeper"] = keeper_worker(services)
    add_routes(app, keeper_router)
    metrics.register(KeeperCollector(services))
