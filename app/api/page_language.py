"""Which language a page speaks, English or Simplified Chinese, and how a reader switches.

A page's language is the ``lang`` query parameter's when it names one (the switch on every page
sets it), else the reader's ``Accept-Language`` preference between the two, else English. Pages
whose words depend on ``Accept-Language`` say so (``Vary``), so a cache keeps one copy a language.
Each text a page shows is a ``Phrase``: its English and its Chinese side by side, so neither can
be forgotten when the other changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlencode

from fastapi import Request

from app.api.html_pages import accept_weights, request_path
from app.api.html_pages import escape_html as e

LANG_PARAMETER = "lang"


class Lang(StrEnum):
    """The languages pages are written in: BCP 47 tags, as ``<html lang>`` and
    ``Content-Language`` carry them."""

    EN = "en"
    ZH = "zh-CN"


class Phrase(NamedTuple):
    """One text in both languages."""

    en: str
    zh: str

    def say(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


# The switch names each language in itself, as readers look for it.
_NAMES = {Lang.EN: "English", Lang.ZH: "中文"}


def language_named(tag: str) -> Lang | None:
    """The page language a tag asks for (``zh``, ``zh-CN``, ``zh-Hans``, ``en-GB``…), or None."""
    primary = tag.strip().lower().split("-")[0]
    return {"en": Lang.EN, "zh": Lang.ZH}.get(primary)


def page_language(request: Request) -> Lang:
    """The language to answer ``request`` in: ``?lang=``, else ``Accept-Language``, else English.
    An unknown ``lang`` is ignored rather than refused: a shared link must still open."""
    asked = request.query_params.get(LANG_PARAMETER)
    if asked is not None and (chosen := language_named(asked)) is not None:
        return chosen
    return preferred_language(request.headers.get("accept-language", ""))


def preferred_language(accept_language: str) -> Lang:
    """The reader's first choice of the two by quality (the first named on a tie)."""
    best, best_weight = Lang.EN, 0.0
    for tag, weight in accept_weights(accept_language).items():
        lang = language_named(tag)
        if lang is not None and weight > best_weight:
            best, best_weight = lang, weight
    return best


def language_headers(lang: Lang) -> dict[str, str]:
    """A page's headers for its language: which it is, and that ``Accept-Language`` chose it."""
    return {"Content-Language": lang.value, "Vary": "Accept-Language"}


def language_switch(request: Request, lang: Lang) -> str:
    """A link to this same page in the other language (other query parameters kept)."""
    other = Lang.ZH if lang is Lang.EN else Lang.EN
    query = [(k, v) for k, v in request.query_params.multi_items() if k != LANG_PARAMETER]
    href = f"{request_path(request)}?{urlencode([*query, (LANG_PARAMETER, other.value)])}"
    return (
        f'<nav class="lang" aria-label="{e(Phrase("Language", "语言").say(lang))}">'
        f'<a href="{e(href)}" hreflang="{other.value}" lang="{other.value}">'
        f"{e(_NAMES[other])}</a></nav>"
    )
