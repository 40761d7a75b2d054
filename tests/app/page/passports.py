"""Product passports for the page tests: documents, pictures, and items registered on chain with
a passport's hash as their ``metadataHash`` (what ``ape run merchant register`` commits)."""

from __future__ import annotations

import secrets
import struct
import zlib
from typing import Any

from app.domain.ids import item_id_of_key, item_key
from app.domain.metadata import metadata_hash
from app.domain.vocab import IdScheme
from tests.app.index.actors import Actor, SuiteDriver
from tests.app.index.records import Item


def png(width: int = 8, height: int = 6, rgb: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    """A real PNG of one colour (8-bit RGB, no filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def passport(**changes: Any) -> dict[str, Any]:
    """A passport of a mug, in both languages; ``changes`` replace or add fields."""
    document: dict[str, Any] = {
        "schema": "trustmall.passport/1",
        "name": {"en": "Stoneware mug", "zh-CN": "粗陶马克杯"},
        "description": {"en": "Glazed by hand.", "zh-CN": "手工上釉。"},
        "attributes": [
            {"name": {"en": "Colour", "zh-CN": "颜色"}, "value": {"en": "Blue", "zh-CN": "蓝色"}},
            {"name": {"en": "Capacity", "zh-CN": "容量"}, "value": "350 ml"},
        ],
        "origin": {"country": "PT", "place": {"en": "Aveiro", "zh-CN": "阿威罗"}},
        "production_date": "2026-03-01",
        "lot": "WO-88",
        "manufacturer": {"name": "Cerâmica Aveiro Lda", "gln": "5601234000006"},
        "materials": [{"name": {"en": "Stoneware", "zh-CN": "粗陶"}, "percent": 100}],
        "care": {"en": "Dishwasher safe.", "zh-CN": "可用洗碗机清洗。"},
    }
    document.update(changes)
    return document


def register_with(suite: SuiteDriver, merchant: Actor, document: dict[str, Any]) -> Item:
    """An item of ``merchant`` committing to ``document`` by its metadata hash."""
    serial = secrets.token_hex(6)
    key = item_key(IdScheme.SKU, "MUG-PASSPORT", serial)
    item_id = item_id_of_key(merchant.address, IdScheme.SKU, key[1], key[2])
    digest = metadata_hash(document)
    uri = f"ipfs://bafy{item_id.hex()[:20]}"
    receipt = suite.send(suite.registry.functions.registerItem(key, digest, uri), merchant.address)
    return Item(item_id, document, digest, uri, receipt, key)
