"""The label QR code: ``GET /v1/items/{id}/qr.svg`` and ``.png``, pointing at ``/verify/{id}``."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Response

from app.api.deps import SettingsDep
from app.api.errors import ErrorPublic
from app.api.params import ItemId
from app.settings import Settings

router = APIRouter(prefix="/v1/items", tags=["shop"])
_CACHE = "public, max-age=86400, immutable"  # the URL in the code depends only on the id
_RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorPublic, "description": "A malformed id"}
}


def verify_url(settings: Settings, item_id: str) -> str:
    """The URL a label's QR code carries for the item."""
    return f"{settings.public_base_url.rstrip('/')}/verify/{item_id}"


def qr_code(url: str) -> segno.QRCode:
    """A label's QR code for ``url``: error correction M, never a Micro QR (phones read it)."""
    return segno.make(url, error="m", micro=False)


def label_code(settings: Settings, item_id: str) -> segno.QRCode:
    return qr_code(verify_url(settings, item_id))


@router.get(
    "/{item_id}/qr.svg",
    responses={**_RESPONSES, 200: {"content": {"image/svg+xml": {}}}},
    response_class=Response,
)
def get_qr_svg(item_id: ItemId, settings: SettingsDep) -> Response:
    """The item's label QR code as SVG."""
    out = io.BytesIO()
    label_code(settings, item_id).save(out, kind="svg", scale=8, border=4, xmldecl=True)
    return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": _CACHE})


@router.get(
    "/{item_id}/qr.png",
    responses={**_RESPONSES, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
def get_qr_png(item_id: ItemId, settings: SettingsDep) -> Response:
    """The item's label QR code as PNG."""
    out = io.BytesIO()
    label_code(settings, item_id).save(out, kind="png", scale=8, border=4)
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": _CACHE})
