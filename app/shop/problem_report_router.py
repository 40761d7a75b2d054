"""``POST /verify/{item_id}/problem-reports``: a shopper reports a problem with an item, no wallet
needed; ``GET /problem-reports/{receipt_id}``: the receipt, with what verifiers made of it.

Both answer people with pages and programs (an ``Accept`` not ranking HTML first) with JSON. A
refused form comes back filled in as it was sent (all but the file), with the reason above it; a
program gets the refusal's code. The body is read up to ``problem_report_body_max_bytes`` and no
further; the photo is checked by its bytes and stripped of its metadata
(``app.domain.photo_upload``); reports are limited per client address; every report kept is
logged (never its words or contact).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from app.api.clients import client_key
from app.api.errors import ApiError, ErrorPublic
from app.api.html_pages import prefers_html
from app.api.page_language import Lang, Phrase, language_headers, language_switch, page_language
from app.api.params import ITEM_ID, ItemId, openapi_parameter
from app.domain.photo_upload import CleanPhoto, PhotoRefused, cleaned
from app.index.runtime import IndexRuntime
from app.services import AppServices
from app.settings import Settings
from app.shop.problem_report_form import FormError, form_page, receipt_page
from app.shop.problem_report_schemas import (
    FORM_SCHEMA,
    MAX_CONTACT_CHARS,
    MAX_DETAILS_CHARS,
    FormValues,
    ProblemReason,
    ProblemReportCreate,
    ProblemReportReceiptPublic,
    ReceiptId,
    Review,
)
from app.shop.problem_reports import ReportState, report_state, store_report
from app.shop.verdicts import item_verdict

log = structlog.get_logger(__name__)
router = APIRouter(tags=["page"])
RECEIPT_ID: TypeAdapter[str] = TypeAdapter(ReceiptId)


@dataclass(eq=False)
class Refused(Exception):
    """A report refused: its status, code, words for the shopper and the field at fault."""

    status_code: int
    code: str
    message: Phrase
    field: str | None = None
    headers: Mapping[str, str] | None = None


def _error(description: str) -> dict[str, Any]:
    return {
        "model": ErrorPublic,
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": ProblemReportReceiptPublic, "description": "Kept: the receipt (programs)"},
    303: {"description": "Kept: a browser is sent to the receipt page (Location)"},
    404: _error("unknown_item: nothing on chain speaks for the item"),
    413: _error("body_too_large (refused unread), or photo_too_large"),
    415: _error("photo_type_not_allowed: the photo's bytes are not a JPEG or PNG"),
    422: _error(
        "invalid_item_id, invalid_reason, text_too_long (details or contact), photo_unreadable, "
        "or invalid_form; a page shows the form again, filled in as sent (all but the file)"
    ),
    429: _error("rate_limited: too many reports from this client address (Retry-After)"),
}


@router.post(
    "/verify/{item_id}/problem-reports",
    status_code=201,
    response_class=Response,
    responses=RESPONSES,
    openapi_extra={
        "parameters": [openapi_parameter("item_id", "path", ItemId, "The item reported")],
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": FORM_SCHEMA}},
        },
    },
)
async def post_problem_report(request: Request) -> Response:
    """Keeps a shopper's report of a problem with an item (what is wrong, optional words, photo
    and contact) under a new receipt; a verifier opens it on chain with its evidence hash."""
    services: AppServices = request.app.state.services
    settings = services.settings
    lang = page_language(request)
    values = FormValues()
    item_id = request.path_params["item_id"]
    try:
        form = await _read_form(request, settings)
        values = _values(form)
        item_id = _item_id(item_id)
        client = client_key(request)
        limit = settings.problem_reports_per_minute
        if (wait := services.rate_limits.take(f"problem-report:{client}", limit)) > 0:
            log.warning("problem_report_rate_limited", client=client, retry_after_seconds=wait)
            raise Refused(
                429,
                "rate_limited",
                Phrase(
                    "Too many reports from your network: try again in a minute.",
                    "您的网络提交的举报过多：请一分钟后再试。",
                ),
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        report = _checked(values)
        photo = await _photo(form.get("photo"), settings.problem_report_photo_max_bytes)
        state = await run_in_threadpool(_keep, request, item_id, report, photo)
    except Refused as refused:
        return _refusal(request, lang, item_id, values, refused, settings)
    row = state.row
    log.info(
        "problem_report_received",
        receipt_id=row.receipt_id,
        item_id=row.item_id,
        reason=row.reason,
        photo_bytes=row.photo_bytes,
        evidence_hash=row.evidence_hash,
    )
    url = receipt_url(row.receipt_id, lang)
    if prefers_html(request.headers.get("accept", "")):
        return RedirectResponse(url, status_code=303)
    return JSONResponse(
        receipt(state, settings).model_dump(mode="json"), status_code=201, headers={"Location": url}
    )


@router.get(
    "/problem-reports/{receipt_id}",
    response_class=Response,
    responses={
        200: {
            "model": ProblemReportReceiptPublic,
            "description": "The receipt: a page for people, JSON for programs",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        404: _error("receipt_not_found"),
        422: _error("invalid_receipt_id"),
    },
    openapi_extra={
        "parameters": [
            openapi_parameter("receipt_id", "path", ReceiptId, "The receipt's id"),
        ]
    },
)
def get_receipt(request: Request) -> Response:
    """A report's receipt: as sent (never the contact), and whether a verifier opened it on chain
    and what they decided, read from the index."""
    services: AppServices = request.app.state.services
    try:
        receipt_id = RECEIPT_ID.validate_python(request.path_params["receipt_id"])
    except ValidationError:
        _refuse(422, "invalid_receipt_id", "a receipt id is pr_ and 22 URL-safe characters")
    with services.database.sessions() as session:
        state = report_state(session, receipt_id)
    if state is None:
        _refuse(404, "receipt_not_found", "no report has this receipt id")
    if prefers_html(request.headers.get("accept", "")):
        lang = page_language(request)
        return HTMLResponse(
            receipt_page(state, lang, language_switch(request, lang)),
            headers={"Cache-Control": "no-store", **language_headers(lang)},
        )
    return JSONResponse(
        receipt(state, services.settings).model_dump(mode="json"),
        headers={"Cache-Control": "no-store"},
    )


def receipt_url(receipt_id: str, lang: Lang | None = None) -> str:
    return f"/problem-reports/{receipt_id}" + (f"?lang={lang.value}" if lang else "")


def receipt(state: ReportState, settings: Settings) -> ProblemReportReceiptPublic:
    row = state.row
    return ProblemReportReceiptPublic(
        receipt_id=row.receipt_id,
        item_id=row.item_id,
        reason=ProblemReason(row.reason),
        details=row.details,
        photo_attached=row.photo_type is not None,
        received_at=row.received_at,
        review=state.review,
        onchain_report_id=state.onchain_report_id,
        evidence_hash=row.evidence_hash,
        receipt_url=settings.public_base_url.rstrip("/") + receipt_url(row.receipt_id),
    )


def _refuse(status_code: int, code: str, message: str) -> NoReturn:
    raise ApiError(status_code, code, message)


def _refusal(
    request: Request,
    lang: Lang,
    item_id: str,
    values: FormValues,
    refused: Refused,
    settings: Settings,
) -> Response:
    log.info("problem_report_refused", code=refused.code, field=refused.field)
    headers = dict(refused.headers or {})
    if prefers_html(request.headers.get("accept", "")):
        error = FormError(refused.message.say(lang), refused.field)
        page = form_page(item_id, lang, values, error, settings.problem_report_photo_max_bytes)
        return HTMLResponse(page, refused.status_code, {**headers, **language_headers(lang)})
    raise ApiError(
        refused.status_code,
        refused.code,
        refused.message.en,
        {"field": refused.field} if refused.field else None,
        headers or None,
    )


async def _read_form(request: Request, settings: Settings) -> FormData:
    """The form, from a body of at most ``problem_report_body_max_bytes`` (declared or sent)."""
    limit = settings.problem_report_body_max_bytes
    too_large = Refused(
        413,
        "body_too_large",
        Phrase(
            f"The report is over {limit / 1_000_000:g} MB: send a smaller photo.",
            f"举报超过 {limit / 1_000_000:g} MB：请发送较小的照片。",
        ),
        "photo",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    received = 0

    async def bounded() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise too_large
        return message

    try:
        return await Request(request.scope, bounded).form(max_files=1, max_fields=8)
    except (MultiPartException, HTTPException):  # Starlette's 400 for a body it cannot parse
        raise Refused(
            422, "invalid_form", Phrase("The form could not be read.", "无法读取表单。")
        ) from None


def _values(form: FormData) -> FormValues:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return FormValues(reason=text("reason"), details=text("details"), contact=text("contact"))


def _item_id(value: str) -> str:
    try:
        return ITEM_ID.validate_python(value)
    except ValidationError:
        raise Refused(
            422,
            "invalid_item_id",
            Phrase(
                "The link does not name an item: an item id is 0x followed by 64 hex digits.",
                "链接没有指向商品：商品编号是 0x 加 64 位十六进制数字。",
            ),
        ) from None


_TOO_LONG = {
    "details": Phrase(
        f"The details are over {MAX_DETAILS_CHARS:,} characters.",
        f"详细说明超过 {MAX_DETAILS_CHARS:,} 个字符。",
    ),
    "contact": Phrase(
        f"The contact is over {MAX_CONTACT_CHARS:,} characters.",
        f"联系方式超过 {MAX_CONTACT_CHARS:,} 个字符。",
    ),
}


def _checked(values: FormValues) -> ProblemReportCreate:
    try:
        return ProblemReportCreate.model_validate(values.model_dump())
    except ValidationError as error:
        where = str(error.errors()[0]["loc"][0])
    if where in _TOO_LONG:
        raise Refused(422, "text_too_long", _TOO_LONG[where], where)
    raise Refused(
        422, "invalid_reason", Phrase("Choose what is wrong.", "请选择问题类型。"), "reason"
    )


async def _photo(upload: UploadFile | str | None, max_bytes: int) -> CleanPhoto | None:
    if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
        return None
    if (upload.size or 0) > max_bytes:
        raise Refused(
            413,
            "photo_too_large",
            Phrase(
                f"The photo is over {max_bytes / 1_000_000:g} MB.",
                f"照片超过 {max_bytes / 1_000_000:g} MB。",
            ),
            "photo",
        )
    try:
        return cleaned(await upload.read())
    except PhotoRefused as refused:
        status = 415 if refused.code == "photo_type_not_allowed" else 422
        message = {
            415: Phrase("The photo must be a JPEG or PNG image.", "照片必须是 JPEG 或 PNG 图片。"),
            422: Phrase("The photo cannot be read.", "无法读取照片。"),
        }[status]
        raise Refused(status, refused.code, message, "photo") from None


def _keep(
    request: Request, item_id: str, report: ProblemReportCreate, photo: CleanPhoto | None
) -> ReportState:
    """Stores the report of a known item (one the page would show as such)."""
    services: AppServices = request.app.state.services
    index: IndexRuntime = request.app.state.index
    with services.database.transaction() as session:
        if not item_verdict(index, session, item_id, fresh=False).known:
            raise Refused(
                404,
                "unknown_item",
                Phrase(
                    "Nothing on chain speaks for this item, so it cannot be reported here.",
                    "链上没有该商品的记录，因此无法在此举报。",
                ),
            )
        row = store_report(session, item_id, report, photo)
        session.flush()
        return ReportState(row, Review.RECEIVED, None)
