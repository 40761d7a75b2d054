"""Publishing product passports (``POST /v1/metadata``) and pictures (``POST /v1/media``): kept
under the keccak256 the items' hashes use, refused with a code when too big, not canonical JSON
or not a passport, bounded by a per-client rate; pictures served as their bytes show, in a
sandbox, cached as immutable; and the abuses a publisher could try."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.domain.metadata import canonical_json, metadata_hash
from app.domain.passport import MAX_DOCUMENT_BYTES
from app.main import create_app
from app.settings import Settings
from app.shop.models import MediaRow, PassportRow
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.passports import passport, png, register_with

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _kept(shop: Shop, row: type[PassportRow] | type[MediaRow]) -> int:
    with shop.app.state.services.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(row)) or 0)


def test_a_passport_is_kept_under_the_hash_an_item_commits_to_and_served_as_canonical_json(
    shop: Shop,
) -> None:
    document = passport()
    pretty = json.dumps(document, indent=2, ensure_ascii=False).encode()

    first = shop.client.post("/v1/metadata", content=pretty)
    again = shop.client.post("/v1/metadata", json=document)

    digest = "0x" + metadata_hash(document).hex()
    assert first.status_code == 201, first.text
    assert first.json() == {
        "metadata_hash": digest,
        "size": len(canonical_json(document)),
        "url": f"/v1/metadata/{digest}",
        "created": True,
    }
    assert again.status_code == 200 and again.json()["created"] is False
    served = shop.client.get(f"/v1/metadata/{digest}")
    assert served.status_code == 200
    assert served.content == canonical_json(document)
    assert "0x" + keccak(served.content).hex() == digest
    assert "immutable" in served.headers["cache-control"]
    assert _kept(shop, PassportRow) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"schema": "trustmall.passport/1", "name": "a", "name": "b"}', 422,
         "not_canonicalizable"),
        (b'{"schema": "trustmall.passport/1", "name": "a", "lot": 9007199254740993}', 422,
         "not_canonicalizable"),
        (b'{"schema": "trustmall.passport/1", "name": NaN}', 422, "not_canonicalizable"),
        (b"{not json", 422, "invalid_json"),
        (b"[" * 40 + b"]" * 40, 422, "invalid_json"),
        (json.dumps(passport(price="12.50")).encode(), 422, "invalid_passport"),
        (json.dumps(passport(name={"fr": "tasse"})).encode(), 422, "invalid_passport"),
        (json.dumps(passport(schema="other/1")).encode(), 422, "invalid_passport"),
        (json.dumps(passport(origin={"country": "Portugal"})).encode(), 422, "invalid_passport"),
        (json.dumps(passport(name="line\u0007bell")).encode(), 422, "invalid_passport"),
        (json.dumps(passport(description="x" * MAX_DOCUMENT_BYTES)).encode(), 413,
         "document_too_large"),
    ],
)  # fmt: skip
def test_a_bad_document_is_refused_with_its_code_and_nothing_is_kept(
    shop: Shop, body: bytes, status: int, code: str
) -> None:
    answer = shop.client.post("/v1/metadata", content=body)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert _kept(shop, PassportRow) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_a_passport_declared_as_anything_but_json_is_refused_415(
    shop: Shop, content_type: str
) -> None:
    body = json.dumps(passport()).encode()

    answer = shop.client.post("/v1/metadata", content=body, headers={"Content-Type": content_type})
    as_json = shop.client.post("/v1/metadata", content=body)  # none declared: taken as JSON

    assert answer.status_code == 415, answer.text
    assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert as_json.status_code == 201, as_json.text


def test_a_schema_refusal_names_each_field(shop: Shop) -> None:
    answer = shop.client.post(
        "/v1/metadata", json=passport(production_date="1 March", attributes=[{"name": "x"}])
    )

    fields = {detail["field"] for detail in answer.json()["error"]["details"]}
    assert {"body.production_date", "body.attributes.0.value"} <= fields


def test_a_picture_is_served_as_its_bytes_show_in_a_sandbox_and_cached_as_immutable(
    shop: Shop,
) -> None:
    picture = png()

    kept = shop.client.post("/v1/media", content=picture, headers={"Content-Type": "image/jpeg"})
    again = shop.client.post("/v1/media", content=picture)

    digest = "0x" + keccak(picture).hex()
    assert kept.status_code == 201, kept.text
    assert kept.json()["media_type"] == "image/png"  # its bytes, not the sender's word
    assert again.status_code == 200 and again.json()["media_hash"] == digest
    served = shop.client.get(f"/v1/media/{digest}")
    assert served.status_code == 200 and served.content == picture
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{digest}"'
    unknown = shop.client.get(f"/v1/media/0x{'00' * 32}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "media_unknown"


@pytest.mark.parametrize("content", [SVG, b"GIF89a" + b"\x00" * 20, b""])
def test_svg_and_anything_not_png_jpeg_or_webp_is_refused_415(shop: Shop, content: bytes) -> None:
    answer = shop.client.post("/v1/media", content=content, headers={"Content-Type": "image/png"})

    assert answer.status_code == 415
    assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert _kept(shop, MediaRow) == 0


@pytest.fixture
def strict_shop(shop_settings: Settings, start_block: int) -> Iterator[Shop]:
    """A shop allowing 3 publications a minute per client and pictures of 1 KiB."""
    app = create_app(
        shop_settings.model_copy(update={"publish_per_minute": 3, "max_media_bytes": 1024})
    )
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        yield Shop(client, app)


def test_a_dust_flood_from_one_address_is_cut_at_the_rate_and_kept_no_further(
    strict_shop: Shop,
) -> None:
    answers = [
        strict_shop.client.post("/v1/metadata", json=passport(lot=f"DUST-{n}")) for n in range(5)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited"
    assert int(answers[3].headers["retry-after"]) >= 1
    assert _kept(strict_shop, PassportRow) == 3
    # Pictures have a bucket of their own: the documents' flood does not stop them.
    assert strict_shop.client.post("/v1/media", content=png()).status_code == 201


def test_a_huge_picture_is_refused_413_before_it_is_read_whole(strict_shop: Shop) -> None:
    huge = png(width=400, height=400, rgb=(1, 2, 3)) + b"\x00" * 2048

    answer = strict_shop.client.post("/v1/media", content=huge)

    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "code": "media_too_large",
        "message": "the body is over 1024 bytes",
        "details": {"limit_bytes": 1024},
    }
    assert _kept(strict_shop, MediaRow) == 0


def test_nobody_can_put_other_words_under_an_items_hash(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """A rival publishes a look-alike passport for the merchant's item: it is kept under its own
    hash, which no item commits to, so the item's page still shows nothing until the merchant's
    own document is published, and then shows that one."""
    genuine = passport()
    item = register_with(suite, merchant, genuine)
    shop.index()
    forged = passport(name="Stoneware mug (genuine!)", origin={"country": "CN"})

    rival = shop.client.post("/v1/metadata", json=forged)

    assert rival.status_code == 201
    assert rival.json()["metadata_hash"] != "0x" + item.metadata_hash.hex()
    page = shop.client.get(f"/verify/{item.hex}").text
    assert "No product data was published for this item" in page
    assert "genuine!" not in page
    shop.client.post("/v1/metadata", json=genuine)
    page = shop.client.get(f"/verify/{item.hex}").text
    assert '<h2 id="product-name">Stoneware mug</h2>' in page and "genuine!" not in page
