"""The FastAPI application: ``create_app(settings)`` builds one; ``make api`` serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.errors import install_error_handlers
from app.chain.keys import ServiceKeys
from app.credit.wiring import install_credit
from app.db.migrate import upgrade_schema
from app.db.session import Database, PoolSettings
from app.ingest.wiring import install_ingest_and_relay
from app.keeper.wiring import install_keeper
from app.merchant.wiring import install_merchant
from app.ops.api_docs import install_api_docs
from app.ops.wiring import install_index_and_shop
from app.services import AppServices
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Keys first: a configured key that cannot be loaded stops the app before anything starts.
    keys = ServiceKeys.load(settings)
    pool = PoolSettings(
        settings.database_pool_size,
        settings.database_pool_overflow,
        settings.database_pool_timeout_seconds,
    )
    database = Database(settings.database_url, pool)
    services = AppServices(settings=settings, database=database, keys=keys)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        upgrade_schema(services.database.engine)
        if settings.run_background_tasks:
            services.start_workers()
        try:
            yield
        finally:
            await services.stop_workers()
            services.database.dispose()

    app = FastAPI(
        title="TrustMall oracle service",
        version="0.1.0",
        summary="Relays carriers' and bureaus' data on chain; answers shoppers from the chain.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    index = install_index_and_shop(app, services)
    install_ingest_and_relay(app, services, app.state.metrics)
    install_credit(app)
    install_keeper(app, services, app.state.metrics)
    install_merchant(app, services, index, app.state.metrics)
    install_api_docs(app, settings.swagger_ui_dir)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
