"""The shopper's web page: ``GET /verify/{id}``, and the item page GS1 Digital Links resolve to
(``app.shop.resolver``).

Server-rendered HTML for a phone (``app.api.html_pages``: mobile-first inline CSS, no JavaScript,
no build step), in English or Simplified Chinese (``app.api.page_language``; the words are
``app.shop.wording``'s and ``app.shop.page_words``'s). Every value is escaped. The data is
``item_verdict``'s, from the index, with the product passport published under the item's hash
and the texts carriers sent for its custody events (``app.shop.page_facts``).

A made page is kept (``app.shop.page_cache``) until the index reads a new head block or
something is published, so a page asked for again costs one indexed query.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.api.error_pages import error_page as shared_error_page
from app.api.html_pages import escape_html as e
from app.api.html_pages import html_document, page_responses, request_path
from app.api.page_language import Lang, Phrase, language_headers, language_switch, page_language
from app.api.params import ITEM_ID, ItemId, openapi_parameter
from app.domain.digital_link import DigitalLink
from app.domain.orders import ETH
from app.index.runtime import IndexRuntime
from app.services import AppServices
from app.shop import page_words as w
from app.shop.index_facts import IndexReader
from app.shop.page_cache import MadePage, PageCache
from app.shop.page_facts import (
    CarrierTexts,
    Passport,
    carrier_texts,
    page_version,
    passport_of,
)
from app.shop.page_product import CSS as PRODUCT_CSS
from app.shop.page_product import product_section
from app.shop.page_trail import trail_section
from app.shop.problem_report_form import problem_report_section
from app.shop.problem_report_schemas import Review
from app.shop.problem_reports import item_review
from app.shop.schemas import ItemVerdictPublic
from app.shop.tokens import AmountText, TokenNames
from app.shop.verdicts import MetadataFetchNeeded, item_verdict, read_verdict
from app.shop.wording import VERDICT_WORDING

router = APIRouter(tags=["page"])

# What an item's page answers (a page for people: its errors are pages too, whoever asks).
ITEM_PAGE_RESPONSES = page_responses(
    {
        200: "The item's verdict page",
        404: "The item's page saying no merchant registered it and no published batch lists it",
        422: "A page saying the link does not name an item: a malformed id or GS1 value",
    }
)
CSS = (
    PRODUCT_CSS
    + """
.trail-text{font-size:.9rem;margin:.15rem 0 0}.trail-text span{display:block}
"""
)


def _link_section(link: DigitalLink, lang: Lang) -> str:
    """What the GS1 link itself says. Only GTIN and serial name the item; a lot or variant is the
    label's word, which nothing on chain records."""
    rows = [f'<dt>GTIN</dt><dd id="gtin">{e(link.gtin)}</dd>']
    if link.cpv is not None:
        rows.append(f'<dt>{e(w.VARIANT.say(lang))}</dt><dd id="cpv">{e(link.cpv)}</dd>')
    if link.lot is not None:
        rows.append(f'<dt>{e(w.LOT.say(lang))}</dt><dd id="lot">{e(link.lot)}</dd>')
    if link.serial is not None:
        rows.append(f'<dt>{e(w.SERIAL.say(lang))}</dt><dd id="serial">{e(link.serial)}</dd>')
    note = (
        f"<p><small>{e(w.LABEL_NOTE.say(lang))}</small></p>"
        if link.lot is not None or link.cpv is not None
        else ""
    )
    return f"<section><h2>{e(w.LABEL.say(lang))}</h2><dl>{''.join(rows)}</dl>{note}</section>"


def _merchant(verdict: ItemVerdictPublic, lang: Lang) -> str:
    if verdict.merchant is None:
        return ""
    m = verdict.merchant
    record = m.seller_record
    said = w.SELLER_RECORD_TEXT.say(lang).format(
        completed=record.orders_completed, total=record.orders_total, lost=record.disputes_lost
    )
    return (
        f"<section><h2>{e(w.MERCHANT.say(lang))}</h2><dl>"
        f"<dt>{e(w.NAME.say(lang))}</dt><dd>{e(m.name or w.NOT_APPROVED.say(lang))}</dd>"
        f'<dt>{e(w.ADDRESS.say(lang))}</dt><dd class="hash">{e(m.address)}</dd>'
        f"<dt>{e(w.STATUS.say(lang))}</dt><dd>{e(w.MERCHANT_STATUS[m.status].say(lang))}</dd>"
        f"<dt>{e(w.SELLER_RECORD.say(lang))}</dt><dd>{e(said)}</dd></dl></section>"
    )


def _sales(verdict: ItemVerdictPublic, amount_text: AmountText, lang: Lang) -> list[str]:
    parts = []
    for sale in verdict.sales:
        token = (
            f'<dt>{e(w.TOKEN.say(lang))}</dt><dd class="hash">{e(sale.token)}</dd>'
            if sale.token != ETH
            else ""
        )
        status = w.ORDER_STATUS.get(sale.status)
        paid = (w.YES if sale.released else w.NOT_YET).say(lang)
        parts.append(
            f"<section><h2>{e(w.SALE.say(lang))}</h2><dl>"
            f'<dt>{e(w.ORDER.say(lang))}</dt><dd><a class="hash" '
            f'href="/v1/orders/{e(sale.order_id)}">{e(sale.order_id)}</a></dd>'
            f"<dt>{e(w.STATUS.say(lang))}</dt>"
            f"<dd>{e(status.say(lang) if status else sale.status)}</dd>"
            f'<dt>{e(w.BUYER.say(lang))}</dt><dd class="hash">{e(sale.buyer)}</dd>'
            f'<dt>{e(w.AMOUNT.say(lang))}</dt><dd id="amount">'
            f"{e(amount_text(sale.token, int(sale.amount)))}</dd>{token}"
            f"<dt>{e(w.PAID_OUT.say(lang))}</dt><dd>{e(paid)}</dd></dl></section>"
        )
    return parts


def _batch(verdict: ItemVerdictPublic, lang: Lang) -> str:
    if verdict.batch is None:
        return ""
    b = verdict.batch
    count = b.item_count if b.item_count is not None else "?"
    return (
        f"<section><h2>{e(w.BATCH.say(lang))}</h2><dl>"
        f'<dt>{e(w.MERKLE_ROOT.say(lang))}</dt><dd class="hash">{e(b.root)}</dd>'
        f"<dt>{e(w.ITEMS.say(lang))}</dt><dd>{e(count)}</dd>"
        f'<dt>{e(w.PROOF.say(lang))}</dt><dd id="proof">'
        f"{e(w.PROOF_WORDS[b.proof_verified].say(lang))}</dd>"
        f"<dt>{e(w.BATCH_RECALLED.say(lang))}</dt>"
        f"<dd>{e((w.YES if b.recalled else w.NO).say(lang))}</dd></dl></section>"
    )


def render_verdict(
    verdict: ItemVerdictPublic,
    amount_text: AmountText,
    link: DigitalLink | None = None,
    *,
    lang: Lang = Lang.EN,
    switch: str = "",
    passport: Passport | None = None,
    texts: dict[str, CarrierTexts] | None = None,
    review: Review | None = None,
) -> str:
    """The page's HTML for one verdict in ``lang``, with what the GS1 ``link`` to it said if one
    led here, the passport published under its hash, the carriers' texts of its trail and the
    chain's review of shoppers' problem reports."""
    wording = VERDICT_WORDING[verdict.reason]
    reason = wording.reason
    parts = [
        switch,
        f'<div class="verdict {wording.tone}"><h1 id="verdict">{e(wording.banner.say(lang))}</h1>'
        + (f'<p id="reason">{e(reason.say(lang))}</p>' if reason is not None else "")
        + f"<p>{e(wording.explanation.say(lang))}</p></div>",
        product_section(verdict.metadata, passport, lang),
        f'<section><h2>{e(w.ITEM.say(lang))}</h2><p class="hash">{e(verdict.item_id)}</p>'
        f'<p><a href="/v1/items/{e(verdict.item_id)}">{e(w.FULL_RECORD.say(lang))}</a></p>'
        "</section>",
    ]
    if link is not None:
        parts.append(_link_section(link, lang))
    parts.append(_merchant(verdict, lang))
    parts.append(trail_section(verdict, texts or {}, lang))
    if verdict.open_reports:
        count = w.OPEN_REPORTS.say(lang).format(count=verdict.open_reports)
        parts.append(f"<section><h2>{e(w.REPORTS.say(lang))}</h2><p>{e(count)}</p></section>")
    parts.extend(_sales(verdict, amount_text, lang))
    parts.append(_batch(verdict, lang))
    parts.append(problem_report_section(verdict.item_id, lang, review) if verdict.known else "")
    as_of = (
        w.AS_OF.say(lang).format(block=verdict.as_of_block)
        if verdict.as_of_block is not None
        else w.AS_OF_NOTHING.say(lang)
    )
    parts.append(f"<p><small>{e(as_of)}</small></p>")
    return html_document(wording.title(lang), "".join(parts), lang.value, CSS)


def error_page(
    request: Request, status_code: int, title: Phrase, message: Phrase, detail: str | None = None
) -> HTMLResponse:
    """An error of the item page (``app.api.error_pages``), with the item page's style."""
    return shared_error_page(request, status_code, title, message, detail, css=CSS)


def _make_page(
    app: FastAPI,
    reader: IndexReader,
    item_id: str,
    lang: Lang,
    link: DigitalLink | None,
    switch: str,
    *,
    fetch: bool,
) -> MadePage:
    """The page of ``item_id``, made afresh from the index on ``reader``. Without ``fetch`` it
    raises ``MetadataFetchNeeded`` when the metadata check needs a host asked (a blocking call);
    with it, it asks."""
    index: IndexRuntime = app.state.index
    token_names: TokenNames = app.state.token_names
    gtin = link.gtin if link is not None else None
    try:
        verdict = read_verdict(index, reader, item_id, gtin)
    except MetadataFetchNeeded:
        if not fetch:
            raise
        with index.database.sessions() as session:
            verdict = item_verdict(index, session, item_id, fresh=False, gtin=gtin)
    html = render_verdict(
        verdict,
        token_names.amount_text,
        link,
        lang=lang,
        switch=switch,
        passport=passport_of(reader, verdict.metadata),
        texts=carrier_texts(reader, item_id, verdict.custody),
        review=item_review(reader, item_id),
    )
    return MadePage(200 if verdict.known else 404, html)


def _make_page_fetching(
    app: FastAPI, item_id: str, lang: Lang, link: DigitalLink | None, switch: str
) -> MadePage:
    """``_make_page`` on a connection of its own, asking a metadata host if it must: for a
    thread."""
    index: IndexRuntime = app.state.index
    with index.reads.connection() as connection:
        reader = IndexReader(connection, index.reads.paramstyle)
        return _make_page(app, reader, item_id, lang, link, switch, fetch=True)


async def verify_page(
    request: Request, item_id: str, link: DigitalLink | None = None
) -> HTMLResponse:
    """The page of ``item_id``; ``link`` is the GS1 link that named it, if one did (its GTIN
    lets an unknown item be told apart from one awaiting its batch's published item list)."""
    try:
        key = ITEM_ID.validate_python(item_id)
    except ValidationError:
        return error_page(request, 422, w.INVALID_ID, w.INVALID_ID_TEXT)
    lang = page_language(request)
    index: IndexRuntime = request.app.state.index
    services: AppServices = request.app.state.services
    pages = services.state(PageCache)
    address = (request_path(request), request.scope["query_string"], lang)
    switch = ""
    # Indexed queries on one DB-API connection: quick enough for the event loop.
    with index.reads.connection() as connection:
        reader = IndexReader(connection, index.reads.paramstyle)
        version: tuple[Any, ...] = page_version(reader)
        page = pages.get(version, address)
        if page is None:
            switch = language_switch(request, lang)
            with contextlib.suppress(MetadataFetchNeeded):
                page = _make_page(request.app, reader, key, lang, link, switch, fetch=False)
                pages.put(version, address, page)
    if page is None:  # a metadata host to ask: in a thread
        page = await run_in_threadpool(_make_page_fetching, request.app, key, lang, link, switch)
        pages.put(version, address, page)
    return HTMLResponse(
        page.html,
        status_code=page.status_code,
        headers={"Cache-Control": "no-cache", **language_headers(lang)},
    )


@router.get(
    "/verify/{item_id}",
    response_class=HTMLResponse,
    responses=ITEM_PAGE_RESPONSES,
    openapi_extra={
        "parameters": [
            openapi_parameter(
                "item_id", "path", ItemId, "The item's id, as its label's QR code gives it"
            )
        ]
    },
)
async def get_verify(request: Request) -> HTMLResponse:
    """The verdict page for one item, for people (the label's QR code points here), in English
    or Simplified Chinese (``?lang=en|zh-CN``, else ``Accept-Language``)."""
    # The id is read here, not declared: a malformed one is answered with a page, not JSON.
    return await verify_page(request, request.path_params["item_id"])
