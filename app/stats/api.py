"""``GET /v1/stats``: items, orders and value by day, disputes, credit decisions, relay lag."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.api.errors import ErrorPublic
from app.api.params import MerchantAddress, openapi_parameter
from app.stats.params import DAYS_PARAMETER, days_of, merchant_of
from app.stats.queries import platform_stats
from app.stats.runtime import StatsRuntime, StatsSnapshot, answer_key
from app.stats.schemas import StatsPublic

router = APIRouter(prefix="/v1", tags=["stats"])

_PARAMETERS = [
    openapi_parameter(
        "merchant", "query", MerchantAddress, "Limit to one merchant", required=False
    ),
    DAYS_PARAMETER,
]


@router.get(
    "/stats",
    response_model=StatsPublic,
    responses={422: {"model": ErrorPublic, "description": "A malformed parameter"}},
    openapi_extra={"parameters": _PARAMETERS},
)
async def get_stats(request: Request) -> Response:
    """The platform's numbers (or one merchant's): items registered, orders and value by day,
    dispute rate, credit approvals and denials by tier, relay lag. Read from the counters the
    indexer keeps, at most ``stats_refresh_seconds`` behind them."""
    # A hot path: an answer kept for the same query is sent before anything is parsed.
    runtime: StatsRuntime = request.app.state.stats
    key = answer_key(request)
    body = runtime.kept(key)
    if body is None:
        merchant, days = merchant_of(request), days_of(request)

        def render(session: Session, snapshot: StatsSnapshot) -> str:
            stats = platform_stats(session, merchant=merchant, days=days, relay=snapshot.relay)
            # Dumped here so fields marked exclude_if (``relay`` until it is fed) are left out.
            return bytes(JSONResponse(stats.model_dump(mode="json")).body).decode()

        body = await runtime.answer(key, render)
    return Response(body, media_type="application/json")
