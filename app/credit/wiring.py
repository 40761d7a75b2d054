"""Puts the bureaus' credit endpoints and the borrowers' line pages into an app (one call from
``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

# Their models (the tables are in the migrations).
import app.credit.models
import app.index.credit_rows  # noqa: F401
from app.api.routing import add_routes
from app.credit.line_router import router as line_router
from app.credit.router import router as credit_router


def install_credit(app: FastAPI) -> None:
    add_routes(app, credit_router, line_router)
