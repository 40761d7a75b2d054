"""The item page's custody trail: registration, custody events with the carriers' own words
(each marked as matching its on-chain hash, or the hash alone), flags, recalls and reassignments,
in chain order; and the times and transactions the page shows."""

from __future__ import annotations

from datetime import datetime

from app.api.html_pages import escape_html as e
from app.api.page_language import Lang, Phrase
from app.shop import page_words as w
from app.shop.page_facts import CarrierTexts, TextCheck, event_key
from app.shop.schemas import CustodyEventPublic, ItemVerdictPublic


def time_text(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def tx_text(tx_hash: str, block: int, lang: Lang) -> str:
    title = w.TRANSACTION.say(lang).format(tx=tx_hash)
    text = w.IN_BLOCK.say(lang).format(tx=tx_hash, block=block)
    return f'<span class="hash" title="{e(title)}">{e(text)}</span>'


def _text_line(label: Phrase, check: TextCheck | None, onchain: str, lang: Lang) -> str:
    """A place or reference of a custody event: the carrier's text and whether it hashes to the
    on-chain hash, or the hash alone when the service never saw the text."""
    named = e(w.LABELLED.say(lang).format(label=label.say(lang)))
    if check is not None:
        mark, css = (w.TEXT_MATCHES, "mark-ok") if check.matches else (w.TEXT_DIFFERS, "mark-bad")
        return (
            f"<span>{named}<q>{e(check.text)}</q> "
            f'<small class="{css}">{e(mark.say(lang))}</small></span>'
        )
    if int(onchain, 16) == 0:
        return ""
    return (
        f"<span>{named}"
        f'<small class="mark-none" title="{e(onchain)}">{e(w.HASH_ONLY.say(lang))}</small></span>'
    )


def _custody_entry(c: CustodyEventPublic, texts: CarrierTexts | None, lang: Lang) -> str:
    action = w.ACTIONS.get(c.action)
    name = action.say(lang) if action is not None else c.action.replace("_", " ")
    location, reference = (texts.location, texts.reference) if texts else (None, None)
    lines = ""
    # A sale's record carries the buyer and the order, which the sale's own section shows.
    if c.action != "sold":
        lines = _text_line(w.PLACE, location, c.location_hash, lang) + _text_line(
            w.REFERENCE, reference, c.context_hash, lang
        )
    if texts is not None:
        sender = w.SENT_BY.say(lang).format(carrier=texts.carrier)
        lines += f'<span class="carrier">{e(sender)}</span>'
    said = f'<p class="trail-text">{lines}</p>' if lines else ""
    return f"<strong>{e(name)}</strong> {e(time_text(c.occurred_at))}{said}" + tx_text(
        c.tx_hash, c.block_number, lang
    )


def trail_section(verdict: ItemVerdictPublic, texts: dict[str, CarrierTexts], lang: Lang) -> str:
    """The trail's section, oldest first (empty when nothing happened to the item)."""
    events: list[tuple[int, int, str]] = []
    if verdict.registration is not None:
        r = verdict.registration
        kind = w.KINDS[r.kind].say(lang)
        events.append(
            (
                r.block_number,
                r.log_index or 0,
                f"<strong>{e(w.REGISTERED.say(lang))}</strong> ({e(kind)}) "
                f"{e(time_text(r.time))}<br>" + tx_text(r.tx_hash, r.block_number, lang),
            )
        )
    for c in verdict.custody:
        entry = _custody_entry(c, texts.get(event_key(c)), lang)
        events.append((c.block_number, c.log_index or 0, entry))
    for f in verdict.flags:
        report = w.REPORT_NUMBER.say(lang).format(number=f.report_id)
        events.append(
            (
                f.block_number,
                f.log_index or 0,
                f"<strong>{e(w.FLAGGED.say(lang))}</strong> ({e(report)}) "
                f"{e(time_text(f.time))}<br>" + tx_text(f.tx_hash, f.block_number, lang),
            )
        )
    if verdict.recall is not None:
        rc = verdict.recall
        scope = w.SCOPES[rc.scope].say(lang)
        events.append(
            (
                rc.block_number,
                rc.log_index or 0,
                f"<strong>{e(w.RECALLED.say(lang))}</strong> ({e(scope)}) "
                f"{e(time_text(rc.time))}<br>" + tx_text(rc.tx_hash, rc.block_number, lang),
            )
        )
    if verdict.reassignment is not None:
        ra = verdict.reassignment
        moved = (
            w.MOVED_TO.say(lang).format(address=ra.to) if ra.to is not None else w.REVOKED.say(lang)
        )
        events.append(
            (
                ra.block_number,
                ra.log_index or 0,
                f'<strong id="reassigned">{e(w.REASSIGNED.say(lang))}</strong> ({e(moved)}) '
                f"{e(time_text(ra.time))}<br>" + tx_text(ra.tx_hash, ra.block_number, lang),
            )
        )
    if not events:
        return ""
    items = "".join(f"<li>{html}</li>" for _, _, html in sorted(events, key=lambda t: t[:2]))
    return f'<section><h2>{e(w.TRAIL.say(lang))}</h2><ol class="timeline">{items}</ol></section>'
