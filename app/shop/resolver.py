"""The GS1 Digital Link resolver: ``GET /01/{gtin}[/22/{cpv}][/10/{lot}]/21/{serial}`` to the item
named by GTIN and serial, as the link's ``linkType`` asks (``app.domain.digital_link`` reads the
link).

Link types it knows: none given, ``gs1:pip`` or ``gs1:defaultLink`` → the item's page;
``gs1:verificationService`` → the item's record as JSON (a 307 to ``/v1/items/{id}``);
``linkset`` (and ``all``, its older name) → every link of the item as the GS1-Conformant Resolver
standard's linkset (RFC 9264 JSON), which ``Accept: application/linkset+json`` also gets, and
which every answer's ``Link`` header names. Any other is answered 404 with the known ones listed,
as the standard asks of a resolver. A program that asks for ``application/ld+json`` gets the item
as linked data at the same URI (``app.shop.linked_data``), and its errors as the API's JSON
errors; everyone else gets pages, errors too (``app.api.html_pages``): people scan labels with
phones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import StringConstraints

from app.api.errors import ApiError
from app.api.html_pages import accept_weights, page_responses
from app.api.page_language import Phrase
from app.api.params import openapi_parameter
from app.domain.digital_link import (
    CPV,
    GTIN_KEY,
    LINK_TYPE,
    LOT,
    SERIAL,
    DigitalLink,
    link_type_pattern,
    parse_digital_link,
)
from app.domain.errors import InvalidDigitalLinkValue, InvalidGtin, InvalidSerial, NotADigitalLink
from app.domain.ids import Gs1Text, Gtin
from app.index.runtime import IndexRuntime
from app.shop import page_words as w
from app.shop.linked_data import (
    LINKSET_MEDIA_TYPE,
    MEDIA_TYPE,
    item_document,
    linkset_document,
    linkset_header,
    wants_linked_data,
    wants_linkset,
)
from app.shop.page import ITEM_PAGE_RESPONSES, error_page, verify_page
from app.shop.publish import passport_text, stored_passport
from app.shop.schemas import MetadataCheck
from app.shop.verdicts import item_verdict

router = APIRouter(tags=["page"])

PAGE_LINK_TYPES = ("gs1:pip", "gs1:defaultLink")
JSON_LINK_TYPE = "gs1:verificationService"
# The standard's own values (not GS1 vocabulary terms): "all" is the name its first version gave.
LINKSET_LINK_TYPES = ("linkset", "all")
KNOWN_LINK_TYPES = (*PAGE_LINK_TYPES, JSON_LINK_TYPE, *LINKSET_LINK_TYPES)
LinkType = Annotated[
    str,
    StringConstraints(
        pattern=link_type_pattern((*PAGE_LINK_TYPES, JSON_LINK_TYPE), LINKSET_LINK_TYPES)
    ),
]
# The links of one item the resolver answers, as the standard orders their key qualifiers.
DOCUMENTED_LINKS = (
    f"/{GTIN_KEY}/{{gtin}}/{SERIAL}/{{serial}}",
    f"/{GTIN_KEY}/{{gtin}}/{LOT}/{{lot}}/{SERIAL}/{{serial}}",
    f"/{GTIN_KEY}/{{gtin}}/{CPV}/{{cpv}}/{SERIAL}/{{serial}}",
    f"/{GTIN_KEY}/{{gtin}}/{CPV}/{{cpv}}/{LOT}/{{lot}}/{SERIAL}/{{serial}}",
)
_PARAMETERS = {
    "gtin": (Gtin, "GTIN-8, -12, -13 or -14 (GS1 application identifier 01)"),
    "cpv": (Gs1Text, "Consumer product variant (22), percent-encoded"),
    "lot": (Gs1Text, "Lot or batch (10), percent-encoded; the chain records none"),
    "serial": (Gs1Text, "Serial (21), percent-encoded: with the GTIN it names the item"),
}
RESOLVER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ITEM_PAGE_RESPONSES,
    **page_responses({404: "A page saying the item, or the link type asked for, is unknown"}),
    307: {"description": "linkType gs1:verificationService: to the item's record as JSON"},
    200: {
        "description": "The item's page; to Accept: application/ld+json, the item as GS1 "
        "linked data (app.shop.linked_data)",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            MEDIA_TYPE: {"schema": {"type": "object"}},
            LINKSET_MEDIA_TYPE: {"schema": {"type": "object"}},
        },
    },
}


def link_uri(request: Request) -> str:
    """The link as sent: its path still percent-encoded (``parse_digital_link`` splits it on
    ``/`` before decoding, so an encoded ``/`` in a serial stays in the serial), and its query."""
    raw_path: bytes | None = request.scope.get("raw_path")
    root_path: str = request.scope.get("root_path", "")
    # Servers that give no raw path lose the difference between "/" and "%2F" in a value.
    path = raw_path.decode("latin-1") if raw_path else quote(request.scope["path"])
    path = path.removeprefix(root_path) if root_path else path
    # The query as sent, read from the scope: ``request.url`` would build the whole URL for it.
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _documented(path: str) -> dict[str, Any]:
    """The OpenAPI parameters of one documented link (read by ``resolve`` from the raw path)."""
    names = [name for name in _PARAMETERS if f"{{{name}}}" in path]
    link_type = openapi_parameter(
        LINK_TYPE,
        "query",
        LinkType,
        "The link asked for: the page unless gs1:verificationService (the JSON record) or "
        "linkset (every link, as RFC 9264 JSON; all is its older name)",
        required=False,
    )
    parameters = [openapi_parameter(name, "path", *_PARAMETERS[name]) for name in names]
    return {"parameters": [*parameters, link_type]}


async def resolve(request: Request) -> Response:
    """A GS1 Digital Link of an item to its page, or to what its ``linkType`` asks for."""
    weights = accept_weights(request.headers.get("accept", ""))
    linkset = wants_linkset(weights)
    linked = linkset or wants_linked_data(weights)
    refuse = _refusal(request, linked)
    try:
        link = parse_digital_link(link_uri(request))
    except NotADigitalLink as error:
        return refuse(
            404,
            "not_a_digital_link",
            (w.NOT_A_LINK, w.NOT_A_LINK_TEXT),
            f"This address is not a GS1 Digital Link this resolver knows: {error}. It resolves "
            "/01/{gtin}/21/{serial}, with /22/{variant} and /10/{lot} before the serial if given.",
        )
    except (InvalidGtin, InvalidSerial, InvalidDigitalLinkValue) as error:
        return refuse(
            422, "invalid_digital_link", (w.INVALID_LINK, w.INVALID_LINK_TEXT), str(error)
        )
    if link.link_type is not None and link.link_type not in KNOWN_LINK_TYPES:
        return refuse(
            404,
            "unknown_link_type",
            (w.UNKNOWN_LINK_TYPE, w.UNKNOWN_LINK_TYPE_TEXT),
            f"This resolver has no {link.link_type!r} link. The link types it knows: "
            f"{', '.join(PAGE_LINK_TYPES)} (this page, also when no linkType is given), "
            f"{JSON_LINK_TYPE} (the item's record as JSON) and linkset (every link as a "
            "linkset, RFC 9264; all is its older name).",
        )
    item_id = link.item_id
    if item_id is None:
        lot = f", lot {link.lot}," if link.lot is not None else ""
        return refuse(
            404,
            "no_serial",
            (w.NO_SERIAL, w.NO_SERIAL_TEXT),
            f"This link names GTIN {link.gtin}{lot} but no serial: this resolver verifies single "
            "items, named by GTIN and serial (/01/{gtin}/21/{serial}).",
        )
    item_hex = "0x" + item_id.hex()
    page = False
    if link.link_type == JSON_LINK_TYPE:
        answer: Response = RedirectResponse(f"/v1/items/{item_hex}", status_code=307)
    elif (linkset or link.link_type in LINKSET_LINK_TYPES) and (
        found := await run_in_threadpool(_linkset, request, item_hex, link)
    ):
        answer = found
    elif linkset:
        raise ApiError(404, "item_not_found", "no item is known by this link: it has no links")
    elif linked:
        answer = await run_in_threadpool(_linked_data, request, item_hex, link)
    else:
        answer, page = await verify_page(request, item_hex, link), True
    # One URI, several representations (and a page in two languages): caches must tell them
    # apart. Every answer names the link's linkset, as the resolver standard asks.
    answer.headers["Vary"] = "Accept, Accept-Language" if page else "Accept"
    answer.headers["Link"] = linkset_header(link)
    return answer


def _linked_data(request: Request, item_hex: str, link: DigitalLink) -> JSONResponse:
    index: IndexRuntime = request.app.state.index
    with index.database.sessions() as session:
        verdict = item_verdict(index, session, item_hex, fresh=False, gtin=link.gtin)
    passport = None
    if verdict.metadata is not None and verdict.metadata.check == MetadataCheck.MATCH:
        text = passport_text(index.database, verdict.metadata.hash)
        passport = stored_passport(text) if text is not None else None
    document = item_document(verdict, link, index.settings.public_base_url, passport)
    return JSONResponse(
        document,
        status_code=200 if verdict.known else 404,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


def _linkset(request: Request, item_hex: str, link: DigitalLink) -> JSONResponse | None:
    """The item's links as a linkset; None for an item nothing on chain speaks for, which has
    none (its page says so to a browser)."""
    index: IndexRuntime = request.app.state.index
    with index.database.sessions() as session:
        verdict = item_verdict(index, session, item_hex, fresh=False, gtin=link.gtin)
    if not verdict.known:
        return None
    return JSONResponse(
        linkset_document(link, item_hex, index.settings.public_base_url),
        media_type=LINKSET_MEDIA_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


Words = tuple[Phrase, Phrase]


def _refusal(request: Request, linked: bool) -> Callable[[int, str, Words, str], Response]:
    """How this request's errors are answered: the API's JSON error (``ApiError``) to a program
    asking for linked data, else a page in the reader's language, with the parser's own words
    (English) as its detail."""

    def refuse(status_code: int, code: str, words: Words, message: str) -> Response:
        if linked:
            raise ApiError(status_code, code, message)
        return error_page(request, status_code, *words, detail=message)

    return refuse


# Each documented link has a route of its own (listed in the OpenAPI document); any other path
# under /01/ reaches the same resolver, which answers it as the standard asks (a value holding an
# encoded "/" is routed there too, the server having decoded it).
for _path in DOCUMENTED_LINKS:
    router.add_api_route(
        _path,
        resolve,
        response_class=HTMLResponse,
        responses=RESOLVER_RESPONSES,
        openapi_extra=_documented(_path),
        summary="Resolve a GS1 Digital Link of an item",
    )
router.add_api_route(
    "/01/{rest:path}", resolve, response_class=HTMLResponse, include_in_schema=False
)
