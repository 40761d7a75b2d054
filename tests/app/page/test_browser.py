"""The shopper's page in a real browser: Debian's headless Chromium renders ``/verify/{id}`` from
a uvicorn server on loopback, at a phone's viewport, and the screenshot and DOM are checked."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import Settings
from harness.browser import PHONE_HEIGHT, PHONE_WIDTH, decode_png, render
from harness.nodes import free_port
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.passports import passport, png, register_with
from tests.app.page.serving import served

WIDTH, HEIGHT = PHONE_WIDTH, PHONE_HEIGHT
NOT_AUTHENTIC_RED = (0xB3, 0x26, 0x1E)  # .bad in app/api/html_pages.py
PAGE_GREY = (0xF4, 0xF5, 0xF7)


@pytest.fixture
def served_shop(shop: Shop, shop_settings: Settings) -> Iterator[str]:
    """A second app on the same database, served by uvicorn on a free loopback port."""
    port = free_port()
    app = create_app(
        shop_settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    )
    with served(app, port) as base:
        yield base


def test_verify_page_renders_in_headless_chromium_at_phone_size(
    served_shop: str, shop: Shop, suite: SuiteDriver, merchant: Actor, tmp_path: Path
) -> None:
    item = suite.register_item(merchant)
    suite.recall_item(merchant, item.item_id)
    shop.index()
    url = f"{served_shop}/verify/{item.hex}"

    page = render(url, tmp_path)

    assert '<h1 id="verdict">Not authentic</h1>' in page.dom
    assert '<p id="reason">Recalled by the merchant</p>' in page.dom
    assert item.hex in page.dom
    data = page.screenshot
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert len(data) > 5_000  # a rendered page, not a blank frame
    pixels = decode_png(data)
    # The verdict banner, at the top of the screen under the language switch.
    assert pixels[80][40] == NOT_AUTHENTIC_RED
    assert pixels[HEIGHT - 5][5] == PAGE_GREY


def test_a_passport_page_in_chinese_shows_its_picture_at_phone_size(
    served_shop: str, shop: Shop, suite: SuiteDriver, merchant: Actor, tmp_path: Path
) -> None:
    mug_blue = (46, 94, 170)
    picture = shop.client.post("/v1/media", content=png(160, 120, mug_blue)).json()["media_hash"]
    document = passport(image={"hash": picture, "alt": {"en": "A mug", "zh-CN": "马克杯"}})
    item = register_with(suite, merchant, document)
    shop.client.post("/v1/metadata", json=document)
    shop.index()

    page = render(f"{served_shop}/verify/{item.hex}?lang=zh-CN", tmp_path)

    assert '<h1 id="verdict">正品</h1>' in page.dom
    assert '<h2 id="product-name">粗陶马克杯</h2>' in page.dom
    assert 'alt="马克杯"' in page.dom
    pixels = decode_png(page.screenshot)
    painted = sum(row.count(mug_blue) for row in pixels)
    assert painted > 10_000  # the picture, drawn across the phone's width
