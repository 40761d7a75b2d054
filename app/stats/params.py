"""The stats' query parameters, read by the hot operations themselves (``/v1/stats``, the
dashboard pages: FastAPI's dependency machinery is most of a cached answer's cost) and
documented in their OpenAPI with the same types (``app.api.params``)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from app.api.params import DECIMAL_DIGITS, MerchantAddress, openapi_parameter

T = TypeVar("T")
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
    return DEFAULT_DAYS if value is None else _checked(DAYS, value, "query", "days")


def merchant_of(request: Request, name: str = "merchant") -> str | None:
    value = request.query_params.get(name)
    return None if value is None else _checked(MERCHANT, value, "query", name)


def merchant_in_path(request: Request) -> str:
    return _checked(MERCHANT, request.path_params["address"], "path", "address")


def _checked(kind: TypeAdapter[T], value: str, location: str, name: str) -> T:
    """``value`` as its type makes it; refused as a declared parameter of that type would be."""
    try:
        return kind.validate_python(value, strict=False)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": (location, name)} for item in error.errors()]
        ) from None
