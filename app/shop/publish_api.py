"""``/v1/metadata`` and ``/v1/media``: product passports and their pictures, published by anyone
and served under their hashes (``app.shop.publish`` checks and keeps them).

Served for ever at the same address with the same bytes, so they are cached as immutable. A
picture is served as the type its bytes show, never sniffed again by the browser
(``X-Content-Type-Options: nosniff``), in a sandbox with no sources of its own
(``Content-Security-Policy``): opened on its own, it can run nothing.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.api.clients import client_key
from app.api.errors import ApiError, ErrorPublic
from app.api.json_body import check_json_content_type, read_bounded
from app.domain.abi_types import Bytes32, coded
from app.domain.passport import MAX_DOCUMENT_BYTES, ProductPassport
from app.services import AppServices
from app.shop.publish import (
    MEDIA_TYPES,
    keep_media,
    keep_passport,
    media,
    passport_document,
    passport_text,
    picture,
    too_large,
)

router = APIRouter(prefix="/v1", tags=["passport"])

ContentHash = Annotated[
    Bytes32, coded("invalid_hash", "must be 0x followed by 64 hex digits (keccak256)")
]
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": IMMUTABLE,
}


class PassportPublishedPublic(BaseModel):
    metadata_hash: str = Field(description="keccak256 of the canonical JSON: the item's hash")
    size: int = Field(description="Bytes of the canonical JSON kept")
    url: str = Field(description="Where the document is served")
    created: bool = Field(description="False: it was published before (the same content)")


class MediaPublishedPublic(BaseModel):
    media_hash: str = Field(description="keccak256 of the picture's bytes")
    media_type: str = Field(description="The type its bytes show")
    size: int
    url: str
    created: bool


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        404: "Nothing was published under this hash",
        413: "Too big",
        415: "Not a picture type kept (PNG, JPEG, WebP), or a passport not sent as JSON",
        422: "Not JSON, not canonicalizable, not a passport, or a malformed hash",
        429: "Over the publications a minute allowed to one client address",
    }
    return {status: {"model": ErrorPublic, "description": texts[status]} for status in statuses}


def _take_turn(request: Request, services: AppServices, what: str) -> None:
    client = client_key(request)
    limit = services.settings.publish_per_minute
    wait = services.rate_limits.take(f"publish-{what}:{client}", limit)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"over {limit} publications a minute from this address",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def _published(model: BaseModel, created: bool) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


@router.post(
    "/metadata",
    status_code=201,
    response_model=PassportPublishedPublic,
    responses={
        200: {"model": PassportPublishedPublic, "description": "Published before: the same"},
        **_errors(413, 415, 422, 429),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ProductPassport"}}
            },
        }
    },
)
async def post_metadata(request: Request) -> Response:
    """Publishes a product passport (schema ``trustmall.passport/1``): kept under the
    ``keccak256`` of its canonical JSON, the ``metadataHash`` an item registered with it
    commits to, and shown on that item's page as checked. Anyone may publish it. Refusals:
    ``document_too_large`` (413, over 32 KiB), ``invalid_json``, ``not_canonicalizable``,
    ``invalid_passport`` (422, a detail per field), ``unsupported_media_type`` (415, a body
    declared as other than ``application/json``), ``rate_limited`` (429)."""
    services: AppServices = request.app.state.services
    _take_turn(request, services, "metadata")
    check_json_content_type(request)
    body = await read_bounded(request, MAX_DOCUMENT_BYTES, too_large("document_too_large"))
    passport = passport_document(body)
    created = await run_in_threadpool(keep_passport, services.database, passport)
    published = PassportPublishedPublic(
        metadata_hash=passport.digest,
        size=len(passport.document),
        url=f"/v1/metadata/{passport.digest}",
        created=created,
    )
    return _published(published, created)


@router.get(
    "/metadata/{metadata_hash}",
    response_model=ProductPassport,
    responses=_errors(404, 422),
)
def get_metadata(
    metadata_hash: Annotated[ContentHash, Path(description="The document's keccak256")],
    request: Request,
) -> Response:
    """A published passport, as its canonical JSON (whose keccak256 is ``metadata_hash``)."""
    services: AppServices = request.app.state.services
    document = passport_text(services.database, metadata_hash)
    if document is None:
        raise ApiError(404, "passport_unknown", "no passport was published with this hash")
    return Response(document, media_type="application/json", headers={"Cache-Control": IMMUTABLE})


_MEDIA_BODY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/media",
    status_code=201,
    response_model=MediaPublishedPublic,
    responses={
        200: {"model": MediaPublishedPublic, "description": "Published before: the same"},
        **_errors(413, 415, 429),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media_type: _MEDIA_BODY for media_type in MEDIA_TYPES},
        }
    },
)
async def post_media(request: Request) -> Response:
    """Publishes a picture (PNG, JPEG or WebP, as its bytes show), kept under the keccak256 of
    its bytes: a passport names it by that hash (``image.hash``). Refusals: ``media_too_large``
    (413, over ``max_media_bytes``), ``unsupported_media_type`` (415: SVG and anything not a
    picture), ``rate_limited`` (429)."""
    services: AppServices = request.app.state.services
    _take_turn(request, services, "media")
    limit = services.settings.max_media_bytes
    content = await read_bounded(request, limit, too_large("media_too_large"))
    digest, media_type = picture(content)
    created = await run_in_threadpool(keep_media, services.database, digest, media_type, content)
    published = MediaPublishedPublic(
        media_hash=digest,
        media_type=media_type,
        size=len(content),
        url=f"/v1/media/{digest}",
        created=created,
    )
    return _published(published, created)


@router.get(
    "/media/{media_hash}",
    response_class=Response,
    responses={
        200: {
            "description": "The picture, as published",
            "content": {media_type: _MEDIA_BODY for media_type in MEDIA_TYPES},
        },
        **_errors(404, 422),
    },
)
def get_media(
    media_hash: Annotated[ContentHash, Path(description="The picture's keccak256")],
    request: Request,
) -> Response:
    """A published picture, with the type its bytes show, cached as immutable."""
    services: AppServices = request.app.state.services
    found = media(services.database, media_hash)
    if found is None:
        raise ApiError(404, "media_unknown", "no picture was published with this hash")
    media_type, content = found
    return Response(
        content, media_type=media_type, headers={**MEDIA_HEADERS, "ETag": f'"{media_hash}"'}
    )
