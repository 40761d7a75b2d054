"""``POST /v1/credit/reports``, ``GET /v1/credit/reports/{id}`` and
``POST /v1/credit/reports/{id}/signatures``: bureaus only, authenticated as carriers' events are
(``app.ingest.auth``: API key and HMAC of the body); see ``app.credit.service`` and
``app.credit.cosign``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.api.errors import ErrorPublic
from app.credit.cosign import add_signature
from app.credit.schemas import (
    CreditReportAcceptedPublic,
    CreditReportCreate,
    CreditReportPublic,
    CreditSignatureCreate,
    ReportId,
)
from app.credit.service import ingest_credit_report, read_credit_report
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER
from app.ingest.auth import authenticate
from app.ingest.router import REPLAYED_HEADER, IdempotencyKeyHeader
from app.settings import SourceKind

router = APIRouter(prefix="/v1/credit", tags=["credit"])
ReportIdPath = Annotated[ReportId, Path(description="The report's id, as its answer gave it")]

ApiKeyHeader = Annotated[str | None, Header(alias=API_KEY_HEADER)]
SignatureHeaderValue = Annotated[
    str | None,
    Header(alias=SIGNATURE_HEADER, description="t=<unix>,v1=<hex HMAC-SHA256 of t.body>"),
]


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorPublic, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: _error(
        "Missing or wrong API key; missing, malformed, forged, expired or replayed signature."
    ),
    403: _error("The key belongs to a source that is not a credit bureau."),
    429: _error("Over the source's rate limit; see Retry-After."),
}


@router.post(
    "/reports",
    status_code=201,
    response_model=CreditReportAcceptedPublic,
    responses={
        **AUTH_ERRORS,
        202: {
            "model": CreditReportAcceptedPublic,
            "description": "Stored and signed by the service's attester keys; the verifier's "
            "quorum wants more signatures (status awaiting_signatures): post them to "
            "/v1/credit/reports/{id}/signatures.",
        },
        409: _error("credit_not_deployed, or the Idempotency-Key was used with another body."),
        413: _error("The body is over the size limit."),
        415: _error("The body is not sent as application/json."),
        422: _error("Invalid body (a code per field)."),
        503: _error("The chain cannot be read, or a key the service needs is not set."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CreditReportCreate.model_json_schema()}},
        }
    },
)
async def post_credit_report(
    request: Request,
    services: ServicesDep,
    api_key: ApiKeyHeader = None,
    signature: SignatureHeaderValue = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Stores a bureau's report encrypted and answers with the report id and an EIP-712
    attestation of its band and the borrower's identity commitment, signed by the service's
    attester keys. When they meet the verifier's quorum the application is queued for the chain
    (201); otherwise the report awaits cosignatures (202)."""
    signed = await authenticate(request, services, SourceKind.BUREAU, api_key, signature)
    answer = await run_in_threadpool(
        ingest_credit_report, services, signed.source, signed.body, idempotency_key
    )
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.get(
    "/reports/{report_id}",
    response_model=CreditReportPublic,
    responses={
        **AUTH_ERRORS,
        404: _error("No such report for this bureau."),
        422: _error("A malformed report id."),
    },
)
async def get_credit_report(
    report_id: ReportIdPath,
    request: Request,
    services: ServicesDep,
    api_key: ApiKeyHeader = None,
    signature: SignatureHeaderValue = None,
) -> CreditReportPublic:
    """The decrypted report and its attestation, for the bureau that sent it (the signature
    covers the empty body)."""
    signed = await authenticate(request, services, SourceKind.BUREAU, api_key, signature)
    return await run_in_threadpool(read_credit_report, services, signed.source, report_id)


@router.post(
    "/reports/{report_id}/signatures",
    status_code=201,
    response_model=CreditReportAcceptedPublic,
    responses={
        **AUTH_ERRORS,
        202: {
            "model": CreditReportAcceptedPublic,
            "description": "Stored; the quorum wants more signatures.",
        },
        404: _error("credit_report_not_found: no such report for this bureau."),
        409: _error(
            "report_already_relayed, duplicate_signature (the signer is counted already), or "
            "attestation_stale (the verifier's attesters or quorum changed since)."
        ),
        413: _error("The body is over the size limit."),
        415: _error("The body is not sent as application/json."),
        422: _error(
            "validation_failed (a malformed report id or body), invalid_signature (recovers to "
            "nobody), or signer_not_attester."
        ),
        503: _error("The chain cannot be read."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CreditSignatureCreate.model_json_schema()}},
        }
    },
)
async def post_credit_report_signature(
    report_id: ReportIdPath,
    request: Request,
    services: ServicesDep,
    api_key: ApiKeyHeader = None,
    signature: SignatureHeaderValue = None,
) -> JSONResponse:
    """Adds an attester's signature (``{"signature": "0x..."}``, over the report's ``to_sign``)
    to a report awaiting cosignatures; the application is queued once the quorum is met (201)."""
    signed = await authenticate(request, services, SourceKind.BUREAU, api_key, signature)
    answer = await run_in_threadpool(add_signature, services, signed.source, report_id, signed.body)
    return JSONResponse(answer.body, status_code=answer.status_code)
