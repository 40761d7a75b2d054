"""The dashboard: ``/dashboard`` (the platform) and ``/dashboard/merchants/{address}`` as pages,
and each of their series as CSV and JSON under ``/v1/stats/series/`` and
``/v1/stats/merchants/{address}/series/``. All from the indexer's counters, rendered once per
change of them (``app.stats.runtime``)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.api.errors import ApiError, ErrorPublic
from app.api.html_pages import page_responses
from app.api.page_language import language_headers, language_switch, page_language
from app.api.params import MerchantAddress, openapi_parameter
from app.index.models import MerchantRow
from app.shop.tokens import TokenNames
from app.stats.dashboard_page import PageContext, render_dashboard
from app.stats.params import DAYS_PARAMETER, Days, days_of, merchant_in_path
from app.stats.runtime import StatsRuntime, StatsRuntimeDep, StatsSnapshot, answer_key
from app.stats.series import PLATFORM_ONLY, SeriesName, SeriesPublic, build_series, read_view

router = APIRouter(tags=["stats"])

_MERCHANT_PATH = Path(description="The merchant's address")
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "No such merchant, or a platform-only series"},
    422: {"model": ErrorPublic, "description": "A malformed parameter"},
}
_CSV = {"text/csv": {"schema": {"type": "string"}}}


def _page_responses(page: str, refusals: tuple[int, ...]) -> dict[int | str, dict[str, Any]]:
    """A page, and its refusals: a page for a browser, else JSON (``app.api.errors``). Stated
    media type by media type: a page operation's ``model`` would be documented as its HTML."""
    responses = page_responses({200: page})
    error = {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}
    for status in refusals:
        responses[status] = {
            "description": _ERRORS[status]["description"],
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": error},
        }
    return responses


def _series(
    runtime: StatsRuntime,
    tokens: TokenNames,
    session: Session,
    snapshot: StatsSnapshot,
    merchant: str | None,
    days: int,
) -> dict[SeriesName, SeriesPublic]:
    view = read_view(session, merchant, days)
    names = [n for n in SeriesName if merchant is None or n not in PLATFORM_ONLY]
    pool_token = runtime.pool_token() if merchant is None else None
    return {
        name: build_series(
            name,
            view,
            merchant=merchant,
            amount_text=tokens.amount_text,
            relay=snapshot.relay,
            pool_token=pool_token,
        )
        for name in names
    }


def _merchant_name(session: Session, merchant: str) -> str:
    row = session.get(MerchantRow, merchant)
    if row is None:
        raise ApiError(404, "merchant_unknown", "no merchant with this address was approved")
    return row.name


async def _page(request: Request, merchant_from_path: bool) -> Response:
    # A hot path: an answer kept for the same address, query and language is sent before
    # anything else is parsed (the language switch's link is made of the query).
    runtime: StatsRuntime = request.app.state.stats
    lang = page_language(request)
    key = answer_key(request, lang)
    body = runtime.kept(key)
    if body is None:
        merchant = merchant_in_path(request) if merchant_from_path else None
        days = days_of(request)
        tokens: TokenNames = request.app.state.token_names
        switch = language_switch(request, lang)
        path = request.url.path

        def render(session: Session, snapshot: StatsSnapshot) -> str:
            name = _merchant_name(session, merchant) if merchant is not None else None
            series = _series(runtime, tokens, session, snapshot, merchant, days)
            prefix = "/v1/stats" if merchant is None else f"/v1/stats/merchants/{merchant}"
            context = PageContext(lang, days, switch, path, f"{prefix}/series", merchant, name)
            pool_token = runtime.pool_token() if merchant is None else None
            return render_dashboard(context, series, tokens.amount_text, pool_token)

        body = await runtime.answer(key, render)
    return HTMLResponse(body, headers=language_headers(lang))


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses=_page_responses("The platform's dashboard", (422,)),
    openapi_extra={"parameters": [DAYS_PARAMETER]},
)
async def dashboard(request: Request) -> Response:
    """The platform's figures as a page: items, orders and value per day, delivery times,
    disputes and refunds, reports, credit decisions, the credit pool, the relay's lag."""
    return await _page(request, merchant_from_path=False)


@router.get(
    "/dashboard/merchants/{address}",
    response_class=HTMLResponse,
    responses=_page_responses("A merchant's dashboard", (404, 422)),
    openapi_extra={
        "parameters": [
            openapi_parameter("address", "path", MerchantAddress, "The merchant's address"),
            DAYS_PARAMETER,
        ]
    },
)
async def merchant_dashboard(request: Request) -> Response:
    """One merchant's figures as a page: its items, orders, value, delivery times, disputes,
    refunds and the reports on its items."""
    return await _page(request, merchant_from_path=True)


async def _download(
    request: Request,
    runtime: StatsRuntime,
    name: SeriesName,
    merchant: str | None,
    days: int,
    form: str,
) -> Response:
    if merchant is not None and name in PLATFORM_ONLY:
        raise ApiError(404, "series_platform_only", f"{name.value} is the platform's alone")
    tokens: TokenNames = request.app.state.token_names

    def render(session: Session, snapshot: StatsSnapshot) -> str:
        if merchant is not None:
            _merchant_name(session, merchant)
        series = _series(runtime, tokens, session, snapshot, merchant, days)[name]
        return series.model_dump_json() if form == "json" else series_csv(series)

    body = await runtime.answer(answer_key(request), render)
    if form == "json":
        return Response(body, media_type="application/json")
    filename = f"{name.value}-{merchant or 'platform'}-{days}d.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def series_csv(series: SeriesPublic) -> str:
    """The series as CSV: a header of its columns, a line a row (empty cell: not applicable)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(series.columns)
    for row in series.rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in series.columns])
    return out.getvalue()


@router.get(
    "/v1/stats/series/{name}.csv",
    responses={200: {"content": _CSV, "description": "The series as CSV"}, **_ERRORS},
    response_class=Response,
)
async def series_as_csv(
    request: Request, runtime: StatsRuntimeDep, name: SeriesName, days: Days = 30
) -> Response:
    """One of the platform's series as CSV (a header line of its columns)."""
    return await _download(request, runtime, name, None, days, "csv")


@router.get("/v1/stats/series/{name}.json", response_model=SeriesPublic, responses=_ERRORS)
async def series_as_json(
    request: Request, runtime: StatsRuntimeDep, name: SeriesName, days: Days = 30
) -> Response:
    """One of the platform's series as JSON."""
    return await _download(request, runtime, name, None, days, "json")


@router.get(
    "/v1/stats/merchants/{address}/series/{name}.csv",
    responses={200: {"content": _CSV, "description": "The series as CSV"}, **_ERRORS},
    response_class=Response,
)
async def merchant_series_as_csv(
    request: Request,
    runtime: StatsRuntimeDep,
    address: Annotated[MerchantAddress, _MERCHANT_PATH],
    name: SeriesName,
    days: Days = 30,
) -> Response:
    """One of a merchant's series as CSV."""
    return await _download(request, runtime, name, address, days, "csv")


@router.get(
    "/v1/stats/merchants/{address}/series/{name}.json",
    response_model=SeriesPublic,
    responses=_ERRORS,
)
async def merchant_series_as_json(
    request: Request,
    runtime: StatsRuntimeDep,
    address: Annotated[MerchantAddress, _MERCHANT_PATH],
    name: SeriesName,
    days: Days = 30,
) -> Response:
    """One of a merchant's series as JSON."""
    return await _download(request, runtime, name, address, days, "json")
