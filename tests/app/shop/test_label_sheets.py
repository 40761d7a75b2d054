"""``GET /v1/batches/{root}/labels.svg``: A4 sheets of 3 x 8 labels of a published batch, each
the item's GS1 Digital Link (or page) as a QR code whose modules are segno's for that link, and
its GTIN, lot and serial in words."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import segno

from app.domain.digital_link import parse_digital_link
from app.domain.ids import item_id_of_key
from app.domain.manifest_signing import manifest_content_hash, sign_manifest
from app.domain.merkle import LEAF_ENCODING, BatchLeaf, ItemBatch
from app.domain.metadata import metadata_hash
from app.domain.vocab import IdScheme
from app.settings import Settings
from app.shop.label_sheets import BORDER_MODULES, LABELS_PER_PAGE
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import random_gtin

SVG = "{http://www.w3.org/2000/svg}"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


def _publish_gs1_batch(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    gtin: str,
    prefix: str,
    serials: list[str],
    lot: str | None,
) -> str:
    """A GS1 batch of ``serials`` (with ``lot`` in each manifest item) of ``gtin``, its company
    ``prefix`` granted to ``merchant`` first, registered and published; its root as hex."""
    suite.grant_prefix(prefix, merchant)
    ids = [item_id_of_key(merchant.address, IdScheme.GS1, gtin, s) for s in serials]
    hashes = [metadata_hash({"name": "Mug", "serial": s}) for s in serials]
    tree = ItemBatch([BatchLeaf(i, h) for i, h in zip(ids, hashes, strict=True)])
    manifest: dict[str, Any] = {
        "version": 1,
        "chain_id": int(suite.w3.eth.chain_id),
        "registry": suite.registry.address,
        "merchant": merchant.address,
        "root": "0x" + tree.root.hex(),
        "item_count": len(serials),
        "leaf_encoding": list(LEAF_ENCODING),
        "items": [
            {
                "item_id": "0x" + item_id.hex(),
                "label": f"gtin {gtin} serial {serial}",
                "metadata_hash": "0x" + digest.hex(),
                "metadata_uri": None,
                "proof": ["0x" + node.hex() for node in tree.proof(item_id)],
                "gtin": gtin,
                "serial": serial,
                **({"lot": lot} if lot is not None else {}),
            }
            for item_id, digest, serial in zip(ids, hashes, serials, strict=True)
        ],
    }
    suite.send(
        suite.registry.functions.registerBatch(
            tree.root, len(serials), manifest_content_hash(manifest), "ipfs://bafylabels"
        ),
        merchant.address,
    )
    shop.index()
    signature = sign_manifest(merchant.account, tree.root, manifest)
    published = shop.client.post(
        f"/v1/batches/0x{tree.root.hex()}/manifest",
        json={"manifest": manifest, "signature": signature},
    )
    assert published.status_code == 201, published.text
    return "0x" + tree.root.hex()


def _labels(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f"{SVG}g[@class='label']")


def _matrix(label: ET.Element, size: int) -> list[list[int]]:
    """The QR modules a label's path draws, without the quiet zone."""
    path = label.find(f".//{SVG}path")
    assert path is not None
    matrix = [[0] * size for _ in range(size)]
    for x, y, width in RUN.findall(path.attrib["d"]):
        for dx in range(int(width)):
            matrix[int(y) - BORDER_MODULES][int(x) - BORDER_MODULES + dx] = 1
    return matrix


def _texts(label: ET.Element) -> list[str]:
    return [text.text or "" for text in label.findall(f"{SVG}text")]


def test_a_sheet_holds_24_labels_each_a_code_of_the_items_digital_link_then_the_next_page(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    serials = [f"{n:04d}" for n in range(30)]
    root = _publish_gs1_batch(shop, suite, merchant, gtin, prefix, serials, lot="L24")

    first = shop.client.get(f"/v1/batches/{root}/labels.svg")
    second = shop.client.get(f"/v1/batches/{root}/labels.svg?page=2")
    beyond = shop.client.get(f"/v1/batches/{root}/labels.svg?page=3")

    assert first.headers["content-type"] == "image/svg+xml"
    assert (first.headers["x-total-pages"], second.headers["x-total-pages"]) == ("2", "2")
    assert first.headers["link"] == f'</v1/batches/{root}/labels.svg?page=2>; rel="next"'
    assert "link" not in second.headers
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (404, "page_not_found")
    labels = _labels(first.text) + _labels(second.text)
    assert [len(_labels(first.text)), len(_labels(second.text))] == [LABELS_PER_PAGE, 6]
    base = shop_settings.public_base_url.rstrip("/")
    for serial, label in zip(serials, labels, strict=True):
        url = label.attrib["data-url"]
        assert url == f"{base}/01/{gtin}/10/L24/21/{serial}"
        assert parse_digital_link(url).item_id == item_id_of_key(
            merchant.address, IdScheme.GS1, gtin, serial
        )
        expected = segno.make(url, error="m", micro=False).matrix
        assert _matrix(label, len(expected)) == [list(row) for row in expected]
        assert _texts(label) == [f"GTIN {gtin}", "LOT L24", f"SN {serial}"]


def test_a_hostile_serial_is_text_in_the_svg_and_encoded_in_the_link(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    serial = "<b>&\"x'/</svg>"
    root = _publish_gs1_batch(shop, suite, merchant, gtin, prefix, [serial], lot=None)

    svg = shop.client.get(f"/v1/batches/{root}/labels.svg").text

    assert "<b>" not in svg and "</svg>" not in svg[:-6]
    (label,) = _labels(svg)
    assert "".join(_texts(label)) == f"GTIN {gtin}SN {serial}"
    assert parse_digital_link(label.attrib["data-url"]).serial == serial


def test_a_sku_batchs_labels_carry_each_items_page(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant, count=2)
    shop.index()
    published = shop.client.post(
        f"/v1/batches/{batch.hex}/manifest",
        json={"manifest": batch.manifest, "signature": suite.sign_manifest(merchant, batch)},
    )
    assert published.status_code == 201

    labels = _labels(shop.client.get(f"/v1/batches/{batch.hex}/labels.svg").text)

    base = shop_settings.public_base_url.rstrip("/")
    assert [label.attrib["data-url"] for label in labels] == [
        f"{base}/verify/0x{item_id.hex()}" for item_id in batch.item_ids
    ]
    assert _texts(labels[0])[1] == "SN 0000" and _texts(labels[0])[0].startswith("SKU MUG-")


def test_an_unpublished_or_malformed_root_is_refused_with_its_code(shop: Shop) -> None:
    unknown = shop.client.get(f"/v1/batches/0x{'ab' * 32}/labels.svg")
    malformed = shop.client.get("/v1/batches/0x12/labels.svg")
    page_zero = shop.client.get(f"/v1/batches/0x{'ab' * 32}/labels.svg?page=0")

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "manifest_not_found")
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (422, "invalid_root")
    assert page_zero.status_code == 422


def test_a_gs1_items_own_qr_code_carries_its_digital_link_once_its_manifest_is_published(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    item = "0x" + item_id_of_key(merchant.address, IdScheme.GS1, gtin, "0042").hex()
    before = shop.client.get(f"/v1/items/{item}/qr.svg")
    base = shop_settings.public_base_url.rstrip("/")

    _publish_gs1_batch(shop, suite, merchant, gtin, prefix, ["0041", "0042"], lot="L7")
    svg = shop.client.get(f"/v1/items/{item}/qr.svg")
    png = shop.client.get(f"/v1/items/{item.upper().replace('0X', '0x')}/qr.png")

    def drawn(url: str, kind: str) -> bytes:
        out = io.BytesIO()
        options = {"xmldecl": True} if kind == "svg" else {}
        segno.make(url, error="m", micro=False).save(out, kind=kind, scale=8, border=4, **options)
        return out.getvalue()

    # Before: the item's page, not to be kept (the manifest may come); after: the label's link.
    assert before.content == drawn(f"{base}/verify/{item}", "svg")
    assert before.headers["cache-control"] == "no-cache"
    link = f"{base}/01/{gtin}/10/L7/21/0042"
    assert svg.content == drawn(link, "svg") and png.content == drawn(link, "png")
    assert "max-age" in svg.headers["cache-control"]
