"""The item page as a product passport: the passport published under the item's on-chain hash
(name, picture, origin, production date, lot, maker, materials, care) marked checked, or why it
is not shown; the custody trail with the places and references carriers sent, each checked
against its on-chain hash or marked "hash only"; English or Chinese by ``Accept-Language`` and
the switch; hostile passports escaped; a made page kept until the index head or a publication
changes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_utils.crypto import keccak
from sqlalchemy import update

from app.api.page_language import Lang
from app.domain.metadata import canonical_json
from app.domain.vocab import CustodyAction
from app.outbox.models import OutboxRecord
from app.outbox.relayer import Relayer
from app.settings import Settings
from app.shop.models import PassportRow
from app.shop.page_cache import MadePage, PageCache
from tests.app.conftest import SourceSecrets, carrier_moves_goods_of
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import Item
from tests.app.ingest.support import post_signed
from tests.app.page.passports import passport, png, register_with

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
PLACE = "GLN 4012345000009 — Hub Leipzig"
REFERENCE = "shipment SH-4411 <fragile>"


def _published(shop: Shop, suite: SuiteDriver, merchant: Actor, **changes: Any) -> Item:
    """An item whose passport (with a picture) is published, indexed."""
    picture = png()
    media = shop.client.post("/v1/media", content=picture)
    assert media.status_code == 201, media.text
    document = passport(image={"hash": media.json()["media_hash"], "alt": "A blue mug"}, **changes)
    item = register_with(suite, merchant, document)
    assert shop.client.post("/v1/metadata", json=document).status_code == 201
    shop.index()
    return item


def test_the_page_shows_the_published_passport_checked_against_the_on_chain_hash(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = _published(shop, suite, merchant)

    page = shop.client.get(f"/verify/{item.hex}")

    html = page.text
    assert page.status_code == 200
    assert '<h2 id="product-name">Stoneware mug</h2>' in html
    picture = "0x" + keccak(png()).hex()
    assert f'<img id="product-picture" src="/v1/media/{picture}" alt="A blue mug"' in html
    assert '<dd id="origin">Aveiro, Portugal</dd>' in html
    assert '<dd id="made">2026-03-01</dd>' in html
    assert '<dd id="product-lot">WO-88</dd>' in html
    assert "<dt>Colour</dt><dd>Blue</dd>" in html and "<dd>350 ml</dd>" in html
    assert "Cerâmica Aveiro Lda (GLN 5601234000006)" in html and "Stoneware 100%" in html
    assert "Dishwasher safe." in html
    assert "Product data checked ✓: it matches the item&#x27;s on-chain hash." in html
    assert html.index('id="verdict"') < html.index('id="product-name"')  # the verdict first
    assert "Test Goods Ltd" in html and "0 of 0 orders completed" in html  # the seller's record
    assert page.headers["content-language"] == "en"


def test_the_page_speaks_chinese_to_a_chinese_reader_and_switches_to_english(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = _published(shop, suite, merchant)

    page = shop.client.get(f"/verify/{item.hex}", headers=CHINESE)

    html = page.text
    assert page.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in page.headers["vary"]
    assert '<html lang="zh-CN">' in html
    assert '<h1 id="verdict">正品</h1>' in html
    assert '<h2 id="product-name">粗陶马克杯</h2>' in html
    assert '<dd id="origin">阿威罗，葡萄牙</dd>' in html
    assert "<dt>颜色</dt><dd>蓝色</dd>" in html and "<dd>350 ml</dd>" in html  # as given
    assert "产品资料已核验 ✓" in html and "生产日期" in html and "商家" in html
    assert "Authentic" not in html and "Product data" not in html
    assert f'href="/verify/{item.hex}?lang=en" hreflang="en"' in html
    english = shop.client.get(f"/verify/{item.hex}?lang=en", headers=CHINESE)
    assert '<h1 id="verdict">Authentic</h1>' in english.text
    assert english.headers["content-language"] == "en"
    chosen = shop.client.get(f"/verify/{item.hex}?lang=zh-CN")
    assert '<h2 id="product-name">粗陶马克杯</h2>' in chosen.text


def test_an_item_without_a_published_passport_says_so_in_both_languages(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = register_with(suite, merchant, passport())
    shop.index()

    english = shop.client.get(f"/verify/{item.hex}").text
    chinese = shop.client.get(f"/verify/{item.hex}", headers=CHINESE).text

    assert "No product data was published for this item" in english
    assert 'id="product-name"' not in english
    assert "此商品尚未公布产品资料" in chinese


def test_a_kept_passport_that_no_longer_hashes_to_the_item_is_not_shown(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = _published(shop, suite, merchant)
    altered = canonical_json(passport(name="Porcelain mug")).decode()
    with shop.app.state.services.database.transaction() as session:
        session.execute(update(PassportRow).values(document=altered))

    html = shop.client.get(f"/verify/{item.hex}").text

    assert "Product data does NOT match the item&#x27;s on-chain hash" in html
    assert "Porcelain mug" not in html and 'id="product-name"' not in html


def test_a_picture_not_published_is_left_out(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    document = passport(image={"hash": "0x" + "ab" * 32})
    item = register_with(suite, merchant, document)
    shop.client.post("/v1/metadata", json=document)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert '<h2 id="product-name">Stoneware mug</h2>' in html and "<img" not in html


def test_hostile_passport_text_is_escaped_everywhere(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = _published(
        shop,
        suite,
        merchant,
        name={"en": "<script>alert(1)</script>", "zh-CN": "<script>alert(2)</script>"},
        attributes=[{"name": '"><img src=x onerror=alert(3)>', "value": "</dd><b>x</b>"}],
        description="</p><iframe src=//evil.example>",
        lot="<b>lot</b>",
    )

    for headers in ({}, CHINESE):
        html = shop.client.get(f"/verify/{item.hex}", headers=headers).text
        assert "<script>" not in html and "<iframe" not in html and "<b>" not in html
        assert "onerror=alert(3)>" not in html.replace("&gt;", "")
        assert "&lt;script&gt;alert(" in html
        assert "&quot;&gt;&lt;img src=x onerror=alert(3)&gt;" in html


@pytest.fixture
def shop_settings(settings: Settings, merchant: Actor) -> Settings:
    """The carrier here moves this test's merchant's goods (``app.ingest.custody_scope``)."""
    return carrier_moves_goods_of(settings, merchant.address).model_copy(
        update={"confirmation_depth": 0}
    )


def _relay_carrier_event(shop: Shop, carrier: SourceSecrets, item: Item) -> None:
    """The carrier's webhook for ``item``, relayed on chain by the custody oracle and indexed."""
    occurred = datetime.fromtimestamp(int(time.time()) - 60, UTC).isoformat()
    event = {
        "event_id": f"dhl-{item.hex[2:14]}",
        "item_id": item.hex,
        "action": "in_transit",
        "occurred_at": occurred,
        "location": PLACE,
        "reference": REFERENCE,
    }
    accepted = post_signed(shop.client, carrier, [event])
    assert accepted.status_code == 202, accepted.text
    relay_id = accepted.json()["accepted"][0]["relay_id"]
    relayer = Relayer.from_services(shop.app.state.services)
    for _ in range(10):
        relayer.run_once()
        if shop.client.get(f"/v1/relay/{relay_id}").json()["status"] == "confirmed":
            break
    assert shop.client.get(f"/v1/relay/{relay_id}").json()["status"] == "confirmed"
    shop.index()


def test_the_trail_shows_the_carriers_place_and_reference_checked_and_others_hash_only(
    shop: Shop, suite: SuiteDriver, merchant: Actor, carrier_secrets: SourceSecrets
) -> None:
    item = _published(shop, suite, merchant)
    suite.record_custody(merchant, item.item_id, CustodyAction.SHIPPED)  # hashes only
    _relay_carrier_event(shop, carrier_secrets, item)

    html = shop.client.get(f"/verify/{item.hex}").text
    chinese = shop.client.get(f"/verify/{item.hex}", headers=CHINESE).text

    assert html.index("<strong>Shipped</strong>") < html.index("<strong>In transit</strong>")
    assert (
        f'Place: <q>{PLACE}</q> <small class="mark-ok">✓ matches its on-chain hash</small>' in html
    )
    assert "Reference: <q>shipment SH-4411 &lt;fragile&gt;</q>" in html
    assert html.count("hash only: the service never saw the text") == 2  # the merchant's event
    # Every carrier's event goes on chain under the service's one oracle key: the page says
    # which carrier sent it, and nothing of the kind for the merchant's own.
    assert html.count('<span class="carrier">') == 1
    assert f'<span class="carrier">Sent by carrier {carrier_secrets.name}</span>' in html
    assert f"地点：<q>{PLACE}</q>" in chinese and "✓ 与链上哈希一致" in chinese
    assert f"由承运方 {carrier_secrets.name} 发送" in chinese
    assert "<strong>运输中</strong>" in chinese and "仅有哈希" in chinese


def test_a_carrier_text_that_does_not_hash_to_the_chain_is_marked_and_the_page_follows_the_head(
    shop: Shop, suite: SuiteDriver, merchant: Actor, carrier_secrets: SourceSecrets
) -> None:
    """The made page is kept while the index head stays: a change outside the chain and the
    publications (an outbox text altered) shows only once the index reads a new block."""
    item = _published(shop, suite, merchant)
    _relay_carrier_event(shop, carrier_secrets, item)
    assert "✓ matches its on-chain hash" in shop.client.get(f"/verify/{item.hex}").text
    with shop.app.state.services.database.transaction() as session:
        session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.subject == item.hex)
            .values(details={"location": "GLN 0000000000000 — elsewhere", "reference": REFERENCE})
        )

    kept = shop.client.get(f"/verify/{item.hex}").text
    suite.mine()
    shop.index()
    fresh = shop.client.get(f"/verify/{item.hex}").text

    assert "elsewhere" not in kept
    assert "<q>GLN 0000000000000 — elsewhere</q>" in fresh
    assert "✗ does NOT match its on-chain hash" in fresh


def test_a_made_page_is_kept_per_address_and_language_and_remade_after_a_publication(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    document = passport()
    item = register_with(suite, merchant, document)
    shop.index()
    pages = shop.app.state.services.state(PageCache)

    before = shop.client.get(f"/verify/{item.hex}").text
    shop.client.get(f"/verify/{item.hex}")
    shop.client.get(f"/verify/{item.hex}", headers=CHINESE)
    assert len(pages) == 2  # one per language
    shop.client.post("/v1/metadata", content=json.dumps(document).encode())
    after = shop.client.get(f"/verify/{item.hex}").text

    assert "No product data was published" in before
    assert '<h2 id="product-name">Stoneware mug</h2>' in after
    assert len(pages) == 1  # the publication made a new version: the old pages went


def test_the_error_pages_speak_the_readers_language(shop: Shop) -> None:
    page = shop.client.get("/verify/0x1234", headers=CHINESE)

    assert page.status_code == 422
    assert '<h1 id="verdict">无效的商品编号</h1>' in page.text
    assert '<html lang="zh-CN">' in page.text and 'hreflang="en"' in page.text
    link = shop.client.get("/01/09506000134353/21/A1", headers=CHINESE)
    assert link.status_code == 422
    assert '<h1 id="verdict">无效的 GS1 链接</h1>' in link.text
    assert "wrong check digit" in link.text  # the parser's own words, as detail
    english = shop.client.get("/01/09506000134353/21/A1")
    assert '<h1 id="verdict">Invalid GS1 link</h1>' in english.text


def test_the_page_cache_holds_at_most_its_capacity_and_only_the_current_version() -> None:
    pages = PageCache(capacity=2)
    made = MadePage(200, "<p>page</p>")
    for query in ("a", "b", "c"):  # addresses anyone can make up: the oldest goes
        pages.put((1, "0xhead"), ("/verify/x", query, Lang.EN), made)

    assert len(pages) == 2
    assert pages.get((1, "0xhead"), ("/verify/x", "a", Lang.EN)) is None
    assert pages.get((1, "0xhead"), ("/verify/x", "c", Lang.EN)) == made
    assert pages.get((2, "0xnext"), ("/verify/x", "c", Lang.EN)) is None  # a new head: remade
