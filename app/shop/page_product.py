"""The item page's product section: the passport published under the item's on-chain hash
(name, picture, description, properties, origin, production date, lot, maker, materials, care,
end of life) and whether it was checked against that hash, or why it could not be. Every value
is escaped; a text given in one language only is shown as given."""

from __future__ import annotations

from app.api.html_pages import escape_html as e
from app.api.page_language import Lang
from app.domain.passport import LanguageTag, ProductPassport, in_language
from app.shop import page_words as w
from app.shop.page_facts import Passport
from app.shop.schemas import MetadataCheck, MetadataPublic

CSS = """
.product img{display:block;width:100%;height:auto;max-height:22rem;object-fit:contain;
border-radius:.5rem;background:#f4f5f7;margin:0 0 .75rem}
.product h2{font-size:1.4rem}.check{font-weight:600;margin:.5rem 0 0}
.mark-ok{color:#137333}.mark-bad{color:#b3261e}.mark-none{color:#5f6368}
.passage{white-space:pre-line}
"""


def _tag(lang: Lang) -> LanguageTag:
    return "zh-CN" if lang is Lang.ZH else "en"


def product_section(metadata: MetadataPublic | None, passport: Passport | None, lang: Lang) -> str:
    """The section, or nothing for an item with no metadata on chain (nothing speaks for it)."""
    if metadata is None:
        return ""
    if passport is not None and passport.matches:
        check = f'<p id="metadata-check" class="check mark-ok">{e(w.CHECKED.say(lang))}</p>'
        return _passport(passport, lang, check)
    if passport is not None:  # kept under the hash, yet hashing to another: never shown
        words, tone = w.METADATA_WORDS[MetadataCheck.MISMATCH], "bad"
    elif metadata.check is MetadataCheck.MATCH:
        words, tone = w.CHECKED_AT_URI, "ok"
    else:
        words = w.METADATA_WORDS[metadata.check]
        tone = "bad" if metadata.check is MetadataCheck.MISMATCH else "none"
    uri = metadata.uri
    link = ""
    if uri is not None and uri.startswith(("https://", "http://")):
        link = f'<p><a href="{e(uri)}">{e(uri)}</a></p>'
    elif uri:
        link = f'<p class="hash">{e(uri)}</p>'
    return (
        f'<section class="product"><h2>{e(w.PRODUCT.say(lang))}</h2>{link}'
        f'<p id="metadata-check" class="check mark-{tone}">{e(words.say(lang))}</p>'
        f'<p class="hash" title="{e(w.ON_CHAIN_HASH.say(lang))}">{e(metadata.hash)}</p></section>'
    )


def _passport(passport: Passport, lang: Lang, check: str) -> str:
    doc: ProductPassport = passport.document
    tag = _tag(lang)

    def say(text: str | dict[LanguageTag, str]) -> str:
        return e(in_language(text, tag))

    parts = [f'<h2 id="product-name">{say(doc.name)}</h2>']
    if passport.picture is not None and doc.image is not None:
        alt = say(doc.image.alt) if doc.image.alt is not None else say(doc.name)
        parts.append(
            f'<img id="product-picture" src="/v1/media/{e(passport.picture)}" alt="{alt}" '
            'width="640" height="480" loading="lazy">'
        )
    if doc.description is not None:
        parts.append(f'<p class="passage" id="description">{say(doc.description)}</p>')
    rows = [f"<dt>{say(a.name)}</dt><dd>{say(a.value)}</dd>" for a in doc.attributes]
    if doc.origin is not None:
        country = w.COUNTRIES.get(doc.origin.country)
        where = country.say(lang) if country is not None else doc.origin.country
        place = f"{say(doc.origin.place)}{w.COMMA.say(lang)}" if doc.origin.place else ""
        rows.append(f'<dt>{e(w.ORIGIN.say(lang))}</dt><dd id="origin">{place}{e(where)}</dd>')
    if doc.production_date is not None:
        made = doc.production_date.isoformat()
        rows.append(f'<dt>{e(w.PRODUCTION_DATE.say(lang))}</dt><dd id="made">{e(made)}</dd>')
    if doc.lot is not None:
        rows.append(f'<dt>{e(w.LOT.say(lang))}</dt><dd id="product-lot">{e(doc.lot)}</dd>')
    if doc.manufacturer is not None:
        maker = say(doc.manufacturer.name)
        if doc.manufacturer.gln is not None:
            maker += f" (GLN {e(doc.manufacturer.gln)})"
        rows.append(f"<dt>{e(w.MANUFACTURER.say(lang))}</dt><dd>{maker}</dd>")
    if doc.materials:
        materials = w.LIST_COMMA.say(lang).join(
            say(m.name) + (f" {m.percent}%" if m.percent is not None else "") for m in doc.materials
        )
        rows.append(f"<dt>{e(w.MATERIALS.say(lang))}</dt><dd>{materials}</dd>")
    if rows:
        parts.append(f"<dl>{''.join(rows)}</dl>")
    for title, text in ((w.CARE, doc.care), (w.END_OF_LIFE, doc.end_of_life)):
        if text is not None:
            parts.append(f'<h3>{e(title.say(lang))}</h3><p class="passage">{say(text)}</p>')
    parts.append(check)
    return f'<section class="product" id="product">{"".join(parts)}</section>'
