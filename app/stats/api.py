"""``GET /v1/stats``: items, orders and value by day, disputes, credit decisions, relay lag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.api.errors import ErrorPublic
from app.api.params import MerchantAddress
from app.stats.queries import platform_stats
from app.stats.runtime import StatsRuntimeDep, StatsSnapshot
from app.stats.schemas import StatsPublic

router = APIRouter(prefix="/v1", tags=["stats"])

Days = Annotated[int, Query(ge=1, le=366, description="Days of daily figures, up to the index's")]


@router.get(
    "/stats",
    response_model=StatsPublic,
    responses={422: {"model": ErrorPublic, "description": "A malformed parameter"}},
)
async def get_stats(
    runtime: StatsRuntimeDep,
    merchant: Annotated[MerchantAddress | None, Query(description="Limit to one merchant")] = None,
    days: Days = 30,
) -> Response:
    """The platform's numbers (or one merchant's): items registered, orders and value by day,
    dispute rate, credit approvals and denials by tier, relay lag. Read from the counters the
    indexer keeps, at most ``stats_refresh_seconds`` behind them."""

    def render(session: Session, snapshot: StatsSnapshot) -> bytes:
        stats = platform_stats(session, merchant=merchant, days=days, relay=snapshot.relay)
        # Dumped here so fields marked exclude_if (``relay`` until it is fed) are left out.
        return bytes(JSONResponse(stats.model_dump(mode="json")).body)

    body = await runtime.answer(("stats", merchant, days), render)
    return Response(body, media_type="application/json")
