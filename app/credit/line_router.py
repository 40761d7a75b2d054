"""A borrower's credit line explained: ``GET /v1/credit/lines/{address}`` (JSON, public),
``GET /credit/{address}`` (the same as a page), and the borrower's own report,
``GET /v1/credit/lines/{address}/report``, behind Sign-In with Ethereum
(``/v1/credit/siwe/nonce``, ``/v1/credit/siwe/session``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete

from app.api.deps import ServicesDep, SessionDep, SettingsDep
from app.api.errors import ApiError, ErrorPublic
from app.api.html_pages import escape_html as e
from app.api.html_pages import html_document, page_responses
from app.api.page_language import Lang, Phrase, language_headers, language_switch, page_language
from app.api.params import MerchantAddress, openapi_parameter
from app.credit import line_wording as w
from app.credit.borrower_report import borrower_report
from app.credit.borrower_sessions import (
    BorrowerDep,
    Credentials,
    MaybeBorrowerDep,
    open_borrower_session,
    own_borrower,
)
from app.credit.line_answer import LineExplainer
from app.credit.line_facts import chain_line, deployment_addresses, line_rows, model_names
from app.credit.line_page import CSS, LinePage
from app.credit.line_schemas import BorrowerReportPublic, BorrowerSessionPublic, CreditLinePublic
from app.credit.models import BorrowerSessionRow
from app.index.runtime import IndexDep, IndexRuntime
from app.merchant.schemas import SiweNoncePublic, SiweSessionCreate
from app.merchant.siwe import token_hash, utc
from app.merchant.siwe_router import nonce_answer
from app.shop.tokens import TokenNames

router = APIRouter(tags=["credit"])
# Any account's address, refused 422 invalid_address as every address parameter is.
BorrowerAddress = MerchantAddress
ADDRESS: TypeAdapter[str] = TypeAdapter(BorrowerAddress)
AddressPath = Annotated[BorrowerAddress, Path(description="The borrower's address")]


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorPublic, "description": description}


def explain_line(request: Request, index: IndexRuntime, address: str) -> CreditLinePublic:
    """The answer for ``address``; 404 ``credit_line_not_found`` if it never applied."""
    with index.database.sessions() as session:
        rows = line_rows(session, address)
        names = model_names(session, address)
    if rows is None:
        raise ApiError(404, "credit_line_not_found", f"{address} never applied for credit")
    token_names: TokenNames = request.app.state.token_names
    explainer = LineExplainer(
        address,
        rows,
        chain_line(index.chain, address),
        deployment_addresses(index.chain),
        token_names.amount_text,
        names,
    )
    return explainer.answer()


@router.get(
    "/v1/credit/lines/{address}",
    response_model=CreditLinePublic,
    responses={
        404: _error("credit_line_not_found: the address never applied (or is not indexed yet)."),
        422: _error("invalid_address: a malformed address."),
    },
)
def get_credit_line(address: AddressPath, request: Request, index: IndexDep) -> CreditLinePublic:
    """A borrower's latest credit decision with every reason in words (English and Simplified
    Chinese), the policy version it applied as a table, what the bureau's attestation committed
    to, the line now, and its draws, repayments and refunds, each with how to check it on chain.
    Public, as the chain is; the report itself is at ``/report``, for its borrower alone."""
    return explain_line(request, index, address)


@router.get(
    "/v1/credit/lines/{address}/report",
    response_model=BorrowerReportPublic,
    responses={
        401: _error("session_required or session_invalid: sign in (/v1/credit/siwe/session)."),
        403: _error("not_your_report: the session is another borrower's."),
        404: _error(
            "credit_line_not_found (never applied), or credit_report_not_found (this service "
            "does not hold the report of the latest decision)."
        ),
        422: _error("invalid_address: a malformed address."),
        503: _error("report_key_mismatch or report_encryption_unavailable."),
    },
)
def get_own_report(
    address: AddressPath, borrower: BorrowerDep, services: ServicesDep
) -> BorrowerReportPublic:
    """The decrypted report behind the borrower's latest decision, who attested it, and whether
    it matches the commitment on chain: for the borrower's own session only."""
    own_borrower(borrower, address)
    return borrower_report(services, address)


@router.get(
    "/credit/{address}",
    response_class=HTMLResponse,
    responses=page_responses(
        {
            200: "The borrower's credit page.",
            404: "The address never applied (code credit_line_not_found).",
            422: "A malformed address (code invalid_address).",
        }
    ),
    openapi_extra={
        "parameters": [openapi_parameter("address", "path", BorrowerAddress, "The borrower")]
    },
)
def get_credit_page(request: Request, index: IndexDep, borrower: MaybeBorrowerDep) -> HTMLResponse:
    """The credit page, in English or Simplified Chinese (``?lang=``, ``Accept-Language``). The
    report is shown only to its borrower's own session (``Authorization: Bearer``)."""
    lang = page_language(request)
    # A borrower's own view carries the report: no shared cache keeps any of it.
    headers = {
        **language_headers(lang),
        "Cache-Control": "private, no-cache",
        "Vary": "Accept-Language, Authorization",
    }
    try:
        address = ADDRESS.validate_python(request.path_params["address"])
    except ValidationError:
        refusal = _refusal(request, lang, w.INVALID, w.INVALID_TEXT, "invalid_address")
        return HTMLResponse(refusal, status_code=422, headers=headers)
    try:
        line = explain_line(request, index, address)
    except ApiError as error:
        if error.status_code != 404:
            raise
        refusal = _refusal(request, lang, w.NOT_FOUND, w.NOT_FOUND_TEXT, error.code)
        return HTMLResponse(refusal, status_code=404, headers=headers)
    report, missing = None, False
    if borrower == address:
        try:
            report = borrower_report(request.app.state.services, address)
        except ApiError as error:
            if error.status_code != 404:
                raise
            missing = True
    page = LinePage(line, lang, f"/v1/credit/lines/{address}/report")
    json_link = f'<p><a href="/v1/credit/lines/{e(address)}">{page.say(w.JSON_LINK)}</a></p>'
    body = language_switch(request, lang) + page.body(report, missing) + json_link
    title = f"{w.TITLE.say(lang)} · {address}"
    return HTMLResponse(html_document(title, body, lang.value, CSS), headers=headers)


def _refusal(request: Request, lang: Lang, title: Phrase, text: Phrase, code: str) -> str:
    body = (
        language_switch(request, lang)
        + f'<div class="verdict bad"><h1 id="verdict">{e(title.say(lang))}</h1>'
        f'<p id="error">{e(text.say(lang))}</p><p><code id="code">{e(code)}</code></p></div>'
    )
    return html_document(title.say(lang), body, lang.value, CSS)


# ------------------------------------------------------------------------------ sign-in


@router.get(
    "/v1/credit/siwe/nonce",
    response_model=SiweNoncePublic,
    responses={429: _error("rate_limited"), 503: _error("chain_unavailable")},
)
def get_borrower_nonce(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    index: IndexDep,
) -> SiweNoncePublic:
    """A nonce for a borrower's Sign-In with Ethereum message (the merchants' nonces, one budget
    per client address), with the domain, origin and chain id the message must name."""
    return nonce_answer(request, session, settings, services, index)


@router.post(
    "/v1/credit/siwe/session",
    status_code=201,
    response_model=BorrowerSessionPublic,
    responses={
        401: _error(
            "siwe_domain_mismatch, siwe_uri_mismatch, siwe_version_unsupported, "
            "siwe_wrong_chain, siwe_expiration_required, siwe_expired, siwe_not_yet_valid, "
            "siwe_signature_invalid or siwe_nonce_unknown (used, expired or never issued)."
        ),
        422: _error("siwe_message_invalid, or an invalid body."),
        503: _error("chain_unavailable"),
    },
)
def create_borrower_session(
    body: SiweSessionCreate, session: SessionDep, settings: SettingsDep, index: IndexDep
) -> BorrowerSessionPublic:
    """Exchanges an EIP-4361 message signed by the borrower's wallet (EIP-191 personal_sign) for
    a session token that reads that borrower's own report."""
    token, row = open_borrower_session(
        session, index.chain, settings, body.message, body.signature, time.time()
    )
    return BorrowerSessionPublic(token=token, borrower=row.borrower, expires_at=utc(row.expires_at))


@router.delete(
    "/v1/credit/siwe/session",
    status_code=204,
    responses={401: _error("session_required or session_invalid")},
)
def delete_borrower_session(
    borrower: BorrowerDep, session: SessionDep, credentials: Credentials
) -> Response:
    """Signs out: the session's token stops working at once."""
    assert credentials is not None  # BorrowerDep checked it
    session.execute(
        delete(BorrowerSessionRow).where(
            BorrowerSessionRow.token_hash == token_hash(credentials.credentials),
            BorrowerSessionRow.borrower == borrower,
        )
    )
    session.commit()
    return Response(status_code=204)
