"""What an item's label carries: the URL in its QR code and the lines a person reads beside it.

A GS1 item named by a published manifest carries its GS1 Digital Link
(``/01/{gtin}[/10/{lot}]/21/{serial}`` under ``PUBLIC_BASE_URL``, ``app.domain.digital_link``),
which is what a phone's camera or a GS1 scanner resolves; any other item carries its
``/verify/{id}`` page. The item's own QR code (``app.shop.qr``) and the batch's label sheets
(``app.shop.label_sheets``) read it here, so a label printed either way carries the same link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.digital_link import DigitalLink
from app.domain.errors import InvalidGtin
from app.domain.ids import MAX_SERIAL_LENGTH, in_character_set_82, normalize_gtin
from app.domain.vocab import IdScheme
from app.settings import Settings
from app.shop.models import ManifestItem, PublishedManifest


@dataclass(frozen=True)
class Label:
    """One label: the URL its code carries and the lines a person reads."""

    url: str
    lines: tuple[str, ...]


def verify_url(settings: Settings, item_id: str) -> str:
    """The URL a label's QR code carries for the item."""
    return f"{settings.public_base_url.rstrip('/')}/verify/{item_id}"


def qr_code(url: str) -> segno.QRCode:
    """A label's QR code for ``url``: error correction M, never a Micro QR (phones read it)."""
    return segno.make(url, error="m", micro=False)


def manifest_lots(manifest: PublishedManifest) -> dict[str, str | None]:
    """The lot each item of a published manifest names (by item id), if it is one a GS1 link can
    carry (else none is shown: the label's link must parse)."""
    entries = json.loads(manifest.manifest).get("items", [])
    return {
        entry["item_id"]: _carried_lot(entry.get("lot"))
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("item_id"), str)
    }


def _carried_lot(lot: object) -> str | None:
    if isinstance(lot, str) and 0 < len(lot) <= MAX_SERIAL_LENGTH and in_character_set_82(lot):
        return lot
    return None


def label_of(settings: Settings, item: ManifestItem, lot: str | None) -> Label:
    """The label of a manifest item: its GS1 Digital Link for a GTIN, else its page."""
    if item.id_scheme == IdScheme.GS1 and item.code is not None and item.serial is not None:
        try:
            gtin = normalize_gtin(item.code)
        except InvalidGtin:
            gtin = None
        if gtin is not None:
            link = DigitalLink(gtin=gtin, lot=lot, serial=item.serial)
            lines = [f"GTIN {gtin}", *([f"LOT {lot}"] if lot else []), f"SN {item.serial}"]
            return Label(settings.public_base_url.rstrip("/") + link.path, tuple(lines))
    if item.code is not None and item.serial is not None:
        lines = [f"SKU {item.code}", f"SN {item.serial}"]
    else:
        lines = [f"ID {item.item_id}"]
    return Label(verify_url(settings, item.item_id), tuple(lines))


def item_label(session: Session, settings: Settings, item_id: str) -> Label:
    """The label of one item: as its published manifest names it (a GS1 item's Digital Link), or
    its page when no manifest names it. An item named by several manifests (a verifier's
    reassignment can leave it in two) takes a GS1 one first, then the oldest root."""
    named = session.scalars(
        select(ManifestItem)
        .where(ManifestItem.item_id == item_id)
        .order_by((ManifestItem.id_scheme == int(IdScheme.GS1)).desc(), ManifestItem.root)
        .limit(1)
    ).first()
    if named is None:
        return Label(verify_url(settings, item_id), (f"ID {item_id}",))
    lot = None
    if named.id_scheme == IdScheme.GS1:
        manifest = session.get(PublishedManifest, named.root)
        lot = manifest_lots(manifest).get(item_id) if manifest is not None else None
    return label_of(settings, named, lot)
