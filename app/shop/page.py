"""The shopper's web page: ``GET /verify/{id}``, and the item page GS1 Digital Links resolve to
(``app.shop.resolver``).

Server-rendered HTML for a phone (``app.api.html_pages``: mobile-first inline CSS, no JavaScript,
no build step). Every value is escaped. The data is ``item_verdict``'s, from the index; its words
are ``app.shop.wording``'s.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.api.html_pages import error_page, html_document, page_responses
from app.api.html_pages import escape_html as e
from app.api.page_language import Lang, page_language
from app.api.params import ITEM_ID, ItemId, openapi_parameter
from app.domain.digital_link import DigitalLink
from app.domain.orders import ETH
from app.index.runtime import IndexRuntime
from app.shop.problem_report_form import problem_report_section
from app.shop.problem_report_schemas import Review
from app.shop.problem_reports import item_review
from app.shop.schemas import ItemVerdictPublic, MetadataCheck
from app.shop.tokens import AmountText, TokenNames
from app.shop.verdicts import item_verdict
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
_METADATA = {
    MetadataCheck.MATCH: "matches its on-chain hash",
    MetadataCheck.MISMATCH: "does NOT match its on-chain hash",
    MetadataCheck.UNREACHABLE: "could not be fetched to check against its on-chain hash",
    MetadataCheck.UNCHECKED: "not checked against its on-chain hash (host not on the allow-list)",
}


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _tx(tx_hash: str, block: int) -> str:
    return (
        f'<span class="hash" title="transaction {e(tx_hash)}">tx {e(tx_hash)}</span> '
        f"(block {block})"
    )


def _link_section(link: DigitalLink) -> str:
    """What the GS1 link itself says. Only GTIN and serial name the item; a lot or variant is the
    label's word, which nothing on chain records."""
    rows = [f'<dt>GTIN</dt><dd id="gtin">{e(link.gtin)}</dd>']
    if link.cpv is not None:
        rows.append(f'<dt>Variant</dt><dd id="cpv">{e(link.cpv)}</dd>')
    if link.lot is not None:
        rows.append(f'<dt>Lot</dt><dd id="lot">{e(link.lot)}</dd>')
    if link.serial is not None:
        rows.append(f'<dt>Serial</dt><dd id="serial">{e(link.serial)}</dd>')
    note = (
        "<p><small>As the label's link gives them; the chain records no lot or variant.</small></p>"
        if link.lot is not None or link.cpv is not None
        else ""
    )
    return f"<section><h2>Label</h2><dl>{''.join(rows)}</dl>{note}</section>"


def render_verdict(
    verdict: ItemVerdictPublic,
    amount_text: AmountText,
    link: DigitalLink | None = None,
    *,
    lang: Lang = Lang.EN,
    review: Review | None = None,
) -> str:
    """The page's HTML for one verdict, with what the GS1 ``link`` to it said if one led here."""
    wording = VERDICT_WORDING[verdict.reason]
    parts = [
        f'<div class="verdict {wording.tone}"><h1 id="verdict">{e(wording.banner)}</h1>'
        + (f'<p id="reason">{e(wording.reason)}</p>' if wording.reason else "")
        + f"<p>{e(verdict.explanation)}</p></div>",
        f'<section><h2>Item</h2><p class="hash">{e(verdict.item_id)}</p>'
        f'<p><a href="/v1/items/{e(verdict.item_id)}">Full record (JSON)</a></p></section>',
    ]
    if link is not None:
        parts.append(_link_section(link))
    if verdict.merchant is not None:
        m = verdict.merchant
        record = m.seller_record
        parts.append(
            "<section><h2>Merchant</h2><dl>"
            f"<dt>Name</dt><dd>{e(m.name or 'not an approved merchant')}</dd>"
            f'<dt>Address</dt><dd class="hash">{e(m.address)}</dd>'
            f"<dt>Status</dt><dd>{e(m.status)}</dd>"
            f"<dt>Seller record</dt><dd>{record.orders_completed} of {record.orders_total} "
            f"orders completed, {record.disputes_lost} disputes lost</dd></dl></section>"
        )
    if verdict.metadata is not None:
        md = verdict.metadata
        product_link = (
            f'<a href="{e(md.uri)}">{e(md.uri)}</a>'
            if md.uri is not None and md.uri.startswith(("https://", "http://"))
            else e(md.uri or "none")
        )
        parts.append(
            f"<section><h2>Product data</h2><p>{product_link}</p>"
            f'<p id="metadata-check">{e(_METADATA[md.check])}</p>'
            f'<p class="hash" title="on-chain metadata hash">{e(md.hash)}</p></section>'
        )
    events: list[tuple[int, int, str]] = []
    if verdict.registration is not None:
        r = verdict.registration
        events.append(
            (
                r.block_number,
                r.log_index or 0,
                f"<strong>Registered</strong> ({e(r.kind)}) {e(_time(r.time))}<br>"
                + _tx(r.tx_hash, r.block_number),
            )
        )
    for c in verdict.custody:
        events.append(
            (
                c.block_number,
                c.log_index or 0,
                f"<strong>{e(c.action.replace('_', ' ').capitalize())}</strong> "
                f"{e(_time(c.occurred_at))}<br>" + _tx(c.tx_hash, c.block_number),
            )
        )
    for f in verdict.flags:
        events.append(
            (
                f.block_number,
                f.log_index or 0,
                f"<strong>Flagged counterfeit</strong> (report {f.report_id}) "
                f"{e(_time(f.time))}<br>" + _tx(f.tx_hash, f.block_number),
            )
        )
    if verdict.recall is not None:
        rc = verdict.recall
        events.append(
            (
                rc.block_number,
                rc.log_index or 0,
                f"<strong>Recalled</strong> ({e(rc.scope)}) {e(_time(rc.time))}<br>"
                + _tx(rc.tx_hash, rc.block_number),
            )
        )
    if verdict.reassignment is not None:
        ra = verdict.reassignment
        moved = f"moved to {e(ra.to)}" if ra.to is not None else "record revoked"
        events.append(
            (
                ra.block_number,
                ra.log_index or 0,
                f'<strong id="reassigned">Reassigned by a verifier</strong> ({moved}) '
                f"{e(_time(ra.time))}<br>" + _tx(ra.tx_hash, ra.block_number),
            )
        )
    if events:
        items = "".join(f"<li>{html}</li>" for _, _, html in sorted(events, key=lambda t: t[:2]))
        parts.append(f'<section><h2>Custody trail</h2><ol class="timeline">{items}</ol></section>')
    if verdict.open_reports:
        parts.append(
            f"<section><h2>Reports</h2><p>{verdict.open_reports} open report(s) "
            "awaiting a verifier</p></section>"
        )
    for sale in verdict.sales:
        token = f'<dt>Token</dt><dd class="hash">{e(sale.token)}</dd>' if sale.token != ETH else ""
        parts.append(
            "<section><h2>Escrow sale</h2><dl>"
            f'<dt>Order</dt><dd><a class="hash" href="/v1/orders/{e(sale.order_id)}">'
            f"{e(sale.order_id)}</a></dd>"
            f"<dt>Status</dt><dd>{e(sale.status)}</dd>"
            f'<dt>Buyer</dt><dd class="hash">{e(sale.buyer)}</dd>'
            f'<dt>Amount</dt><dd id="amount">{e(amount_text(sale.token, int(sale.amount)))}</dd>'
            f"{token}"
            f"<dt>Paid out to the merchant</dt><dd>{'yes' if sale.released else 'not yet'}</dd>"
            "</dl></section>"
        )
    if verdict.batch is not None:
        b = verdict.batch
        proof = {
            True: "verified: the proof rebuilds the root",
            False: "does NOT rebuild the root",
            None: "no published proof",
        }[b.proof_verified]
        parts.append(
            "<section><h2>Batch</h2><dl>"
            f'<dt>Merkle root</dt><dd class="hash">{e(b.root)}</dd>'
            f"<dt>Items</dt><dd>{e(b.item_count if b.item_count is not None else '?')}</dd>"
            f'<dt>Proof</dt><dd id="proof">{e(proof)}</dd>'
            f"<dt>Batch recalled</dt><dd>{'yes' if b.recalled else 'no'}</dd></dl></section>"
        )
    parts.append(problem_report_section(verdict.item_id, lang, review) if verdict.known else "")
    as_of = f" as of block {verdict.as_of_block}" if verdict.as_of_block is not None else ""
    parts.append(f"<p><small>Checked against the chain's record{e(as_of)}.</small></p>")
    return html_document(wording.title, "".join(parts))


def verify_page(request: Request, item_id: str, link: DigitalLink | None = None) -> HTMLResponse:
    """The page of ``item_id``; ``link`` is the GS1 link that named it, if one did (its GTIN
    lets an unknown item be told apart from one awaiting its batch's published item list)."""
    try:
        key = ITEM_ID.validate_python(item_id)
    except ValidationError:
        return error_page(422, "Invalid item id", "An item id is 0x followed by 64 hex digits.")
    index: IndexRuntime = request.app.state.index
    token_names: TokenNames = request.app.state.token_names
    gtin = link.gtin if link is not None else None
    with index.database.sessions() as session:
        verdict = item_verdict(index, session, key, fresh=False, gtin=gtin)
        review = item_review(session, key)
    return HTMLResponse(
        render_verdict(
            verdict, token_names.amount_text, link, lang=page_language(request), review=review
        ),
        status_code=200 if verdict.known else 404,
        headers={"Cache-Control": "no-cache"},
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
def get_verify(request: Request) -> HTMLResponse:
    """The verdict page for one item, for people (the label's QR code points here)."""
    # The id is read here, not declared: a malformed one is answered with a page, not JSON.
    return verify_page(request, request.path_params["item_id"])
