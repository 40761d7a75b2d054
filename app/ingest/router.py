"""``POST /v1/logistics/events``: carriers' events, signed; see ``app.ingest.auth`` for the
signature scheme and ``app.ingest.logistics`` for what is accepted and answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.api.errors import ErrorPublic
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER
from app.ingest.auth import authenticate
from app.ingest.logistics import ingest_logistics
from app.ingest.schemas import IdempotencyKey, LogisticsIngestPublic, request_body_schema
from app.settings import SourceKind

router = APIRouter(prefix="/v1/logistics", tags=["logistics"])

REPLAYED_HEADER = "Idempotent-Replayed"
IdempotencyKeyHeader = Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")]


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorPublic, "description": description}


@router.post(
    "/events",
    status_code=202,
    response_model=LogisticsIngestPublic,
    responses={
        401: _error(
            "Missing or wrong API key; missing, malformed, forged, expired or replayed signature."
        ),
        403: _error("The key belongs to a source that does not send logistics data."),
        409: _error("The Idempotency-Key was used with another body."),
        413: _error("The body is over the size limit."),
        415: _error("The body is not sent as application/json."),
        422: _error(
            "Invalid body or Idempotency-Key (a code per field), or every event names an unknown "
            "subject."
        ),
        429: _error("Over the source's rate limit; see Retry-After."),
        503: _error("The chain cannot be read to check the subjects; see Retry-After."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": request_body_schema()}},
        }
    },
)
async def post_logistics_events(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str | None, Header(alias=API_KEY_HEADER)] = None,
    signature: Annotated[
        str | None,
        Header(alias=SIGNATURE_HEADER, description="t=<unix>,v1=<hex HMAC-SHA256 of t.body>"),
    ] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Accepts one event or an array of them; each accepted one gets a relay id and is relayed
    on chain (registry custody event or escrow logistics report) exactly once."""
    signed = await authenticate(request, services, SourceKind.CARRIER, api_key, signature)
    answer = await run_in_threadpool(
        ingest_logistics, services, signed.source, signed.body, idempotency_key
    )
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)
