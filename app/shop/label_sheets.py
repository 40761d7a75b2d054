"""``GET /v1/batches/{root}/labels.svg?page=N``: printable label sheets of a published batch.

An A4 page of 3 x 8 labels (70 x 37 mm, the common sticker sheet), in the manifest's order. Each
label is the item's QR code and, beside it, what a person reads: a GS1 item's GTIN, lot (when
the manifest names one) and serial, whose code is its GS1 Digital Link
(``/01/{gtin}[/10/{lot}]/21/{serial}`` under ``PUBLIC_BASE_URL``, ``app.domain.digital_link``);
a SKU item's SKU and serial, whose code is its ``/verify/{id}`` page. Codes are drawn as paths of
dark modules in millimetres (no raster), so they print sharp at any size. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep
from app.api.errors import ApiError, ErrorPublic
from app.api.html_pages import escape_html as e
from app.api.params import DECIMAL_DIGITS, BatchRoot
from app.settings import Settings
from app.shop.labels import Label, label_of, manifest_lots, qr_code
from app.shop.models import ManifestItem, PublishedManifest

router = APIRouter(prefix="/v1/batches", tags=["shop"])

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
COLUMNS, ROWS = 3, 8
LABELS_PER_PAGE = COLUMNS * ROWS
LABEL_WIDTH_MM, LABEL_HEIGHT_MM = 70.0, 37.0
TOP_MM = (PAGE_HEIGHT_MM - ROWS * LABEL_HEIGHT_MM) / 2
QR_MM = 31.0  # the code with its quiet zone, square, at the label's left
PAD_MM = 2.0
TEXT_MM = 2.5  # font size
# Monospace characters a line holds beside the code (a character is about 0.6 of the font size):
# "GTIN" and a GTIN-14 fit, as does a serial of up to 19 characters; longer text wraps.
LINE_CHARS = 22
BORDER_MODULES = 4  # the quiet zone the QR standard asks for
MAX_PAGE = 100_000


def qr_path(url: str, size_mm: float) -> str:
    """The code of ``url`` as one SVG path of dark modules (with its quiet zone) ``size_mm``
    wide: a horizontal run of dark modules is one rectangle, ``M{x} {y}h{n}v1h-{n}z``, in
    module units (the path is scaled by its caller)."""
    matrix = qr_code(url).matrix
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                width = x - start
                runs.append(f"M{start + BORDER_MODULES} {y + BORDER_MODULES}h{width}v1h-{width}z")
            else:
                x += 1
    modules = len(matrix) + 2 * BORDER_MODULES
    return (
        f'<g transform="scale({size_mm / modules:.6f})"><path class="qr" d="{"".join(runs)}"/></g>'
    )


def _wrapped(text: str) -> Iterator[str]:
    for start in range(0, max(len(text), 1), LINE_CHARS):
        yield text[start : start + LINE_CHARS]


def label_svg(label: Label, x_mm: float, y_mm: float) -> str:
    lines = [part for line in label.lines for part in _wrapped(line)]
    text_x = PAD_MM + QR_MM + 1
    texts = "".join(
        f'<text x="{text_x:g}" y="{PAD_MM + TEXT_MM * 1.25 * (n + 1) + 3:.2f}">{e(line)}</text>'
        for n, line in enumerate(lines[: int((LABEL_HEIGHT_MM - 2 * PAD_MM) // (TEXT_MM * 1.25))])
    )
    return (
        f'<g class="label" transform="translate({x_mm:g} {y_mm:g})" data-url="{e(label.url)}">'
        f'<g transform="translate({PAD_MM:g} 3)">{qr_path(label.url, QR_MM)}</g>{texts}</g>'
    )


def sheet_svg(labels: list[Label], page: int, pages: int, root: str) -> str:
    """One A4 page of ``labels`` (at most ``LABELS_PER_PAGE``), row by row."""
    placed = "".join(
        label_svg(
            label,
            (n % COLUMNS) * LABEL_WIDTH_MM,
            TOP_MM + (n // COLUMNS) * LABEL_HEIGHT_MM,
        )
        for n, label in enumerate(labels)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_WIDTH_MM}mm" '
        f'height="{PAGE_HEIGHT_MM}mm" viewBox="0 0 {PAGE_WIDTH_MM} {PAGE_HEIGHT_MM}">'
        f"<title>{e(f'Labels of batch {root}, page {page} of {pages}')}</title>"
        "<style>.qr{fill:#000}text{font:" + f"{TEXT_MM}px" + " ui-monospace,monospace;"
        "fill:#000}</style>"
        f'<rect width="{PAGE_WIDTH_MM}" height="{PAGE_HEIGHT_MM}" fill="#fff"/>{placed}</svg>'
    )


def batch_labels(
    session: Session, settings: Settings, root: str, page: int
) -> tuple[list[Label], int]:
    """The labels of ``page`` (from 1) of a published batch, and how many pages it has."""
    manifest = session.get(PublishedManifest, root)
    if manifest is None:
        raise ApiError(404, "manifest_not_found", "no manifest is published for this batch root")
    count = session.scalar(select(func.count()).where(ManifestItem.root == root)) or 0
    pages = max(1, math.ceil(count / LABELS_PER_PAGE))
    if page > pages:
        raise ApiError(
            404, "page_not_found", f"the batch's labels fill {pages} page(s)", {"pages": pages}
        )
    items = session.scalars(
        select(ManifestItem)
        .where(ManifestItem.root == root)
        .order_by(ManifestItem.position)
        .offset((page - 1) * LABELS_PER_PAGE)
        .limit(LABELS_PER_PAGE)
    ).all()
    lots = manifest_lots(manifest)
    return [label_of(settings, item, lots.get(item.item_id)) for item in items], pages


@router.get(
    "/{root}/labels.svg",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": f"An A4 page of {COLUMNS} x {ROWS} labels; Link names the next page",
        },
        404: {"model": ErrorPublic, "description": "manifest_not_found, or page_not_found"},
        422: {"model": ErrorPublic, "description": "A malformed root or page"},
    },
)
def get_labels_svg(
    root: BatchRoot,
    session: SessionDep,
    settings: SettingsDep,
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="The page, from 1"), DECIMAL_DIGITS
    ] = 1,
) -> Response:
    """Label sheets of a published batch: each item's QR code (its GS1 Digital Link, or its
    page for a SKU) with its GTIN or SKU, lot and serial in words."""
    labels, pages = batch_labels(session, settings, root.lower(), page)
    headers = {"Cache-Control": "no-cache", "X-Total-Pages": str(pages)}
    if page < pages:
        headers["Link"] = f'</v1/batches/{root}/labels.svg?page={page + 1}>; rel="next"'
    return Response(
        sheet_svg(labels, page, pages, root), media_type="image/svg+xml", headers=headers
    )
