"""Puts the index, the shopper API, stats and the ops endpoints into an app (one call from
``create_app``): the indexer worker, routers, request logging and metrics."""

from __future__ import annotations

from fastapi import FastAPI

import app.index.models
import app.shop.models  # noqa: F401  (its tables are in the migrations)
from app.api.routing import add_routes
from app.index.runtime import IndexRuntime
from app.ops.api import router as ops_router
from app.ops.logging import RequestLogMiddleware, configure_logging
from app.ops.metrics import install_metrics
from app.ops.problem_reports_api import router as problem_reports_router
from app.services import AppServices
from app.shop.api import router as shop_router
from app.shop.label_sheets import router as label_sheets_router
from app.shop.order_context import ChainClock
from app.shop.page import router as page_router
from app.shop.problem_report_router import router as problem_report_router
from app.shop.publish_api import router as publish_router
from app.shop.qr import router as qr_router
from app.shop.resolver import router as resolver_router
from app.shop.tokens import TokenNames
from app.stats.wiring import install_stats


def install_index_and_shop(app: FastAPI, services: AppServices) -> IndexRuntime:
    configure_logging()
    index = IndexRuntime(services.settings, services.database)
    app.state.index = index
    app.state.token_names = TokenNames(index.chain)
    app.state.chain_clock = ChainClock(index.chain)
    services.workers["indexer"] = index.worker
    add_routes(
        app,
        page_router,
        shop_router,
        resolver_router,
        qr_router,
        label_sheets_router,
        publish_router,
        problem_report_router,
        problem_reports_router,
    )
    install_stats(app, index)
    add_routes(app, ops_router)
    # Kept for the features that add their own collectors (the keeper's).
    app.state.metrics = install_metrics(app, index.indexer)
    # Added last, so outermost: the request id covers every other middleware's work too.
    app.add_middleware(RequestLogMiddleware)
    return index
