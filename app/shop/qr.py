"""An item's label QR code: ``GET /v1/items/{id}/qr.svg`` and ``.png``. It carries what the item's
label carries (``app.shop.labels``): a GS1 item's Digital Link once its manifest is published,
else the item's ``/verify/{id}`` page."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep
from app.api.errors import ErrorPublic
from app.api.params import ItemId
from app.settings import Settings
from app.shop.labels import item_label, qr_code, verify_url

router = APIRouter(prefix="/v1/items", tags=["shop"])
# A manifest published later turns an item's page link into its Digital Link: a code is kept a
# day only once it is the Digital Link, which nothing changes.
_KEPT = "public, max-age=86400"
_RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorPublic, "description": "A malformed id"}
}


def _code(
    session: Session, settings: Settings, item_id: str
) -> tuple[segno.QRCode, dict[str, str]]:
    item = item_id.lower()
    url = item_label(session, settings, item).url
    final = url != verify_url(settings, item)
    return qr_code(url), {"Cache-Control": _KEPT if final else "no-cache"}


@router.get(
    "/{item_id}/qr.svg",
    responses={**_RESPONSES, 200: {"content": {"image/svg+xml": {}}}},
    response_class=Response,
)
def get_qr_svg(item_id: ItemId, session: SessionDep, settings: SettingsDep) -> Response:
    """The item's label QR code as SVG: its GS1 Digital Link once a published manifest names
    its GTIN and serial, else its page."""
    code, headers = _code(session, settings, item_id)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=4, xmldecl=True)
    return Response(out.getvalue(), media_type="image/svg+xml", headers=headers)


@router.get(
    "/{item_id}/qr.png",
    responses={**_RESPONSES, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
def get_qr_png(item_id: ItemId, session: SessionDep, settings: SettingsDep) -> Response:
    """The item's label QR code as PNG (what the SVG carries)."""
    code, headers = _code(session, settings, item_id)
    out = io.BytesIO()
    code.save(out, kind="png", scale=8, border=4)
    return Response(out.getvalue(), media_type="image/png", headers=headers)
