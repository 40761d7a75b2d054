"""The stats' query parameters, read by the hot operations themselves (``/v1/stats``, the
dashboard pages: FastAPI's dependency machinery is most of a cached answer's cost) and
documented in their OpenAPI with the same types (``app.api.params``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import Field, TypeAdapter

from app.api.params import DECIMAL_DIGITS, MerchantAddress, checked, openapi_parameter

DEFAULT_DAYS = 30
DaysValue = Annotated[int, Field(ge=1, le=366), DECIMAL_DIGITS]
DAYS: TypeAdapter[int] = TypeAdapter(DaysValue)
# The same, as a parameter FastAPI reads (the series' downloads).
Days = Annotated[
    int, Query(ge=1, le=366, description="Days of daily figures, up to the index's"), DECIMAL_DIGITS
]
MERCHANT: TypeAdapter[str] = TypeAdapter(MerchantAddress)
DAYS_PARAMETER = {
    **openapi_parameter(
        "days", "query", DaysValue, "Days of daily figures, up to the index's", required=False
    ),
}
DAYS_PARAMETER["schema"] = {**DAYS_PARAMETER["schema"], "default": DEFAULT_DAYS}


def days_of(request: Request) -> int:
    value = request.query_params.get("days")
    return DEFAULT_DAYS if value is None else checked(DAYS, value, "query", "days")


def merchant_of(request: Request, name: str = "merchant") -> str | None:
    value = request.query_params.get(name)
    return None if value is None else checked(MERCHANT, value, "query", name)


def merchant_in_path(request: Request) -> str:
    return checked(MERCHANT, request.path_params["address"], "path", "address")
