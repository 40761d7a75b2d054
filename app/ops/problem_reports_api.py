"""``GET /v1/problem-reports``: shoppers' problem reports for the platform's verifiers, by review
(``received``: none is open on chain yet), with their contact and photo; and each photo.

Verifiers call as a data source of kind ``verifier`` does (``app.ingest.auth``: API key, then an
HMAC signature over the empty body, each signature once): the reports hold personal data (the
contact) and words nobody checked. A verifier acts on chain with the command each report names,
``ape run ops file-report ITEM_ID --kind K --evidence-hash H``; the report's review then follows
the registry's report (``app.shop.problem_reports``)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.api.deps import ServicesDep
from app.api.errors import ApiError, ErrorPublic
from app.api.params import DECIMAL_DIGITS, Offset
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER
from app.ingest.auth import authenticate
from app.services import AppServices
from app.settings import SourceKind
from app.shop.problem_report_router import receipt
from app.shop.problem_report_schemas import (
    ProblemReason,
    ProblemReportListPublic,
    ProblemReportOperatorPublic,
    ReceiptId,
    Review,
)
from app.shop.problem_reports import ReportState, photo_of, reports_in_review

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/problem-reports", tags=["ops"])
ApiKey = Annotated[str | None, Header(alias=API_KEY_HEADER)]
Signature = Annotated[
    str | None,
    Header(alias=SIGNATURE_HEADER, description="t=<unix>,v1=<hex HMAC-SHA256 of t.body>"),
]
AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorPublic, "description": "A missing or wrong API key or signature"},
    403: {"model": ErrorPublic, "description": "source_not_allowed: not a verifier's key"},
    429: {"model": ErrorPublic, "description": "rate_limited: the verifier's own limit"},
}


def _operator_view(services: AppServices, state: ReportState) -> ProblemReportOperatorPublic:
    row = state.row
    kind = int(ProblemReason(row.reason).onchain_kind)
    photo = f"/v1/problem-reports/{row.receipt_id}/photo" if row.photo_type else None
    return ProblemReportOperatorPublic(
        **receipt(state, services.settings).model_dump(),
        contact=row.contact,
        photo_type=row.photo_type,
        photo_bytes=row.photo_bytes,
        photo_sha256=row.photo_sha256,
        photo_url=photo,
        onchain_kind=kind,
        open_command=(
            f"ape run ops file-report {row.item_id} --kind {kind} "
            f"--evidence-hash {row.evidence_hash}"
        ),
    )


@router.get("", response_model=ProblemReportListPublic, responses=AUTH_ERRORS)
async def list_problem_reports(
    request: Request,
    services: ServicesDep,
    review: Annotated[Review, Query(description="Which reports: by their review")] = (
        Review.RECEIVED
    ),
    limit: Annotated[int, Query(ge=1, le=200, description="Reports a page"), DECIMAL_DIGITS] = 50,
    offset: Offset = 0,
    api_key: ApiKey = None,
    signature: Signature = None,
) -> ProblemReportListPublic:
    """Reports whose review is ``review``, oldest first, with the contact given, the photo's
    address and the command that opens each on chain."""
    signed = await authenticate(request, services, SourceKind.VERIFIER, api_key, signature)

    def read() -> list[ReportState]:
        with services.database.sessions() as session:
            return reports_in_review(session, review, limit, offset)

    states = await run_in_threadpool(read)
    log.info("problem_reports_read", verifier=signed.source, review=review, count=len(states))
    return ProblemReportListPublic(
        review=review, reports=[_operator_view(services, state) for state in states]
    )


@router.get(
    "/{receipt_id}/photo",
    response_class=Response,
    responses={
        **AUTH_ERRORS,
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The photo"},
        404: {"model": ErrorPublic, "description": "photo_not_found"},
        422: {"model": ErrorPublic, "description": "A malformed receipt id"},
    },
)
async def get_problem_report_photo(
    receipt_id: Annotated[ReceiptId, Path(description="The report's receipt id")],
    request: Request,
    services: ServicesDep,
    api_key: ApiKey = None,
    signature: Signature = None,
) -> Response:
    """A report's photo, as kept (its metadata removed when it was received)."""
    signed = await authenticate(request, services, SourceKind.VERIFIER, api_key, signature)

    def read() -> tuple[str, bytes] | None:
        with services.database.sessions() as session:
            return photo_of(session, receipt_id)

    photo = await run_in_threadpool(read)
    if photo is None:
        raise ApiError(404, "photo_not_found", "no report with a photo has this receipt id")
    log.info("problem_report_photo_read", verifier=signed.source, receipt_id=receipt_id)
    media_type, content = photo
    return Response(
        content,
        media_type=media_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
