"""The HTML the service answers people with: the document every page shares (mobile-first inline
CSS, no JavaScript), error pages, and whether a request is a browser's that should get them.

Every value put into a page is escaped with ``escape_html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from fastapi import Request

# The JSON API answers JSON whoever asks: its clients are programs, and a browser that opened one
# of its addresses asked for JSON (the page links "Full record (JSON)").
JSON_API_PREFIX = "/v1/"
HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,sans-serif;
color:#1b1f24;background:#f4f5f7}main{max-width:40rem;margin:0 auto;padding:1rem}
.verdict{border-radius:1rem;padding:1.25rem;color:#fff;margin-bottom:1rem}
.ok{background:#137333}.bad{background:#b3261e}.unsure{background:#5f6368}
.verdict h1{margin:0;font-size:2.2rem}
.verdict p{margin:.4rem 0 0;font-size:1.15rem}section{background:#fff;border-radius:.75rem;
padding:1rem;margin-bottom:1rem}h2{font-size:1.1rem;margin:0 0 .5rem}
code,.hash{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
ol.timeline{list-style:none;margin:0;padding:0 0 0 1rem;border-left:3px solid #c4c7cc}
ol.timeline li{margin:0 0 .8rem;position:relative}ol.timeline li:before{content:"";
position:absolute;left:-1.45rem;top:.35rem;width:.7rem;height:.7rem;border-radius:50%;
background:#5f6368}a{color:#0b57d0}dl{margin:0}dt{font-weight:600}dd{margin:0 0 .5rem}
nav.lang{text-align:right;margin:0 0 .5rem}nav.lang a{display:inline-block;padding:.5rem .75rem}
"""


def escape_html(value: object) -> str:
    """Text escaped for HTML content and attribute values."""
    return escape(str(value), quote=True)


def html_document(title: str, body: str, lang: str = "en", css: str = "") -> str:
    """A whole page around ``body`` (already HTML), in the language tagged ``lang``
    (``app.api.page_language.Lang``); ``css`` adds the page's own rules to the shared ones."""
    return (
        f'<!DOCTYPE html><html lang="{escape_html(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape_html(title)}</title><style>{_CSS}{css}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def page_responses(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of an operation that answers pages: each status, a document."""
    html = {"text/html": {"schema": {"type": "string"}}}
    return {status: {"description": text, "content": html} for status, text in descriptions.items()}


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` header ranks HTML first: above JSON, and named (``*/*`` alone is a
    program's "anything", and programs are answered JSON)."""
    weights = accept_weights(accept)
    html = max(weights.get(media_type, 0.0) for media_type in HTML_MEDIA_TYPES)
    return html > 0 and html >= weights.get("application/json", 0.0)


def accept_weights(accept: str) -> dict[str, float]:
    """Each media type an ``Accept`` header names, with its quality (``q``, 1 when not given)."""
    weights: dict[str, float] = {}
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media_type = media_type.lower()
        weights[media_type] = max(weight, weights.get(media_type, 0.0))
    return weights


def request_path(request: Request) -> str:
    """``request.url.path``, read off the ASGI scope: a page asks for it on every request, and
    the URL object (scheme, host, the whole address parsed again) is not needed for it."""
    path: str = request.scope["path"]
    if "?" in path or "#" in path or "\\" in path:
        path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return path


def wants_html_error(request: Request) -> bool:
    """Whether an error should be answered as a page: a browser asked, outside the JSON API."""
    return not request.url.path.startswith(JSON_API_PREFIX) and prefers_html(
        request.headers.get("accept", "")
    )
