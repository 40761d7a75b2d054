"""The shopper's web page: ``GET /verify/{id}`` and GS1 Digital Link ``GET /01/{gtin}/21/{serial}``.

Server-rendered HTML for a phone: mobile-first inline CSS, no JavaScript, no build step. Every
value is escaped with ``html.escape``. The data is ``item_verdict``'s, from the index.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.domain.errors import InvalidGtin, InvalidSerial
from app.domain.ids import item_id_from_gs1
from app.index.runtime import IndexRuntime
from app.shop.schemas import ItemVerdictPublic, MetadataCheck, VerdictReason
from app.shop.verdicts import item_verdict

router = APIRouter(tags=["page"], include_in_schema=False)

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
HEADLINES = {
    VerdictReason.AUTHENTIC: "Authentic",
    VerdictReason.RECALLED: "Recalled by the merchant",
    VerdictReason.BATCH_RECALLED: "Batch recalled by the merchant",
    VerdictReason.FLAGGED: "Reported counterfeit (confirmed)",
    VerdictReason.UNKNOWN: "Unknown item",
    VerdictReason.MERCHANT_SUSPENDED: "Merchant suspended",
}
_METADATA = {
    MetadataCheck.MATCH: "matches its on-chain hash",
    MetadataCheck.MISMATCH: "does NOT match its on-chain hash",
    MetadataCheck.UNREACHABLE: "could not be fetched to check against its on-chain hash",
    MetadataCheck.UNCHECKED: "not checked against its on-chain hash (host not on the allow-list)",
}
_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,sans-serif;
color:#1b1f24;background:#f4f5f7}main{max-width:40rem;margin:0 auto;padding:1rem}
.verdict{border-radius:1rem;padding:1.25rem;color:#fff;margin-bottom:1rem}
.ok{background:#137333}.bad{background:#b3261e}.verdict h1{margin:0;font-size:2.2rem}
.verdict p{margin:.4rem 0 0;font-size:1.15rem}section{background:#fff;border-radius:.75rem;
padding:1rem;margin-bottom:1rem}h2{font-size:1.1rem;margin:0 0 .5rem}
code,.hash{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
ol.timeline{list-style:none;margin:0;padding:0 0 0 1rem;border-left:3px solid #c4c7cc}
ol.timeline li{margin:0 0 .8rem;position:relative}ol.timeline li:before{content:"";
position:absolute;left:-1.45rem;top:.35rem;width:.7rem;height:.7rem;border-radius:50%;
background:#5f6368}a{color:#0b57d0}dl{margin:0}dt{font-weight:600}dd{margin:0 0 .5rem}
"""


def e(value: object) -> str:
    """Text escaped for HTML content and attribute values."""
    return escape(str(value), quote=True)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _tx(tx_hash: str, block: int) -> str:
    return (
        f'<span class="hash" title="transaction {e(tx_hash)}">tx {e(tx_hash)}</span> '
        f"(block {block})"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def error_page(status_code: int, title: str, message: str) -> HTMLResponse:
    body = f'<div class="verdict bad"><h1 id="verdict">{e(title)}</h1><p>{e(message)}</p></div>'
    return HTMLResponse(_document(title, body), status_code=status_code)


def render_verdict(verdict: ItemVerdictPublic) -> str:
    """The page's HTML for one verdict."""
    headline = HEADLINES[verdict.reason]
    ok = verdict.authentic
    parts = [
        f'<div class="verdict {"ok" if ok else "bad"}">'
        f'<h1 id="verdict">{"Authentic" if ok else "Not authentic"}</h1>'
        + ("" if ok else f'<p id="reason">{e(headline)}</p>')
        + f"<p>{e(verdict.explanation)}</p></div>",
        f'<section><h2>Item</h2><p class="hash">{e(verdict.item_id)}</p>'
        f'<p><a href="/v1/items/{e(verdict.item_id)}">Full record (JSON)</a></p></section>',
    ]
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
        link = (
            f'<a href="{e(md.uri)}">{e(md.uri)}</a>'
            if md.uri is not None and md.uri.startswith(("https://", "http://"))
            else e(md.uri or "none")
        )
        parts.append(
            f"<section><h2>Product data</h2><p>{link}</p>"
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
        parts.append(
            "<section><h2>Escrow sale</h2><dl>"
            f'<dt>Order</dt><dd><a class="hash" href="/v1/orders/{e(sale.order_id)}">'
            f"{e(sale.order_id)}</a></dd>"
            f"<dt>Status</dt><dd>{e(sale.status)}</dd>"
            f'<dt>Buyer</dt><dd class="hash">{e(sale.buyer)}</dd>'
            f"<dt>Amount</dt><dd>{e(sale.amount)} (base units of "
            f'<span class="hash">{e(sale.token)}</span>)</dd>'
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
    as_of = f" as of block {verdict.as_of_block}" if verdict.as_of_block is not None else ""
    parts.append(f"<p><small>Checked against the chain's record{e(as_of)}.</small></p>")
    title = f"{'Authentic' if ok else 'Not authentic'}: {headline}"
    return _document(title, "".join(parts))


def verify_page(request: Request, item_id: str) -> HTMLResponse:
    if not _HEX32.fullmatch(item_id):
        return error_page(422, "Invalid item id", "An item id is 0x followed by 64 hex digits.")
    index: IndexRuntime = request.app.state.index
    with index.database.sessions() as session:
        verdict = item_verdict(index, session, item_id.lower(), fresh=False)
    return HTMLResponse(
        render_verdict(verdict),
        status_code=200 if verdict.known else 404,
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/verify/{item_id}", response_class=HTMLResponse)
def get_verify(item_id: str, request: Request) -> HTMLResponse:
    """The verdict page for one item."""
    return verify_page(request, item_id)


@router.get("/01/{gtin}/21/{serial:path}", response_class=HTMLResponse)
def get_gs1(gtin: str, serial: str, request: Request) -> HTMLResponse:
    """A GS1 Digital Link (``/01/{gtin}/21/{serial}``, serial percent-encoded) to the same page."""
    try:
        item_id = item_id_from_gs1(gtin, serial)
    except (InvalidGtin, InvalidSerial) as error:
        return error_page(422, "Invalid GS1 link", str(error))
    return verify_page(request, "0x" + item_id.hex())
