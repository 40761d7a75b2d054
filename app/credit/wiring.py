"""Puts the bureaus' credit endpoints into an app (one call from ``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

import app.credit.models  # noqa: F401  (its tables are in the migrations)
from app.credit.router import router as credit_router


def install_credit(app: FastAPI) -> None:
    app.include_router(credit_router)
