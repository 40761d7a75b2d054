"""Every page people read, in both languages, in headless Chromium at a phone's size: axe-core
finds no serious or critical violation, nothing is loaded from outside the service, and each
page's screenshot is kept (``.build/screenshots``) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.api.page_language import Lang
from app.main import create_app
from app.settings import Settings
from harness.devtools import Page
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import random_gtin
from tests.app.page.browser_checks import check_page
from tests.app.page.passports import passport, png, register_with
from tests.app.page.problem_reports_support import post_report
from tests.app.page.serving import served


@pytest.fixture
def site(shop: Shop, shop_settings: Settings) -> Iterator[str]:
    with served(create_app(shop_settings)) as base:
        yield base


@pytest.mark.parametrize("lang", list(Lang))
def test_item_pages_pass_axe_in_both_languages(
    site: str, browser_tab: Page, shop: Shop, suite: SuiteDriver, merchant: Actor, lang: Lang
) -> None:
    authentic = suite.register_item(merchant)
    recalled = suite.register_item(merchant)
    suite.recall_item(merchant, recalled.item_id)
    shop.index()

    picture = shop.client.post("/v1/media", content=png(160, 120)).json()["media_hash"]
    document = passport(image={"hash": picture, "alt": {"en": "A mug", "zh-CN": "马克杯"}})
    with_passport = register_with(suite, merchant, document)
    shop.client.post("/v1/metadata", json=document)
    shop.index()
    reported = post_report(shop, with_passport.hex, lang=lang.value)
    receipt = reported.headers["location"]

    text = check_page(browser_tab, f"{site}/verify/{with_passport.hex}", "passport", lang)
    assert ("粗陶马克杯" if lang is Lang.ZH else "Stoneware mug") in text
    check_page(browser_tab, f"{site}{receipt}", "problem-report-receipt", lang)
    check_page(browser_tab, f"{site}/verify/{authentic.hex}", "verify-authentic", lang)
    check_page(browser_tab, f"{site}/verify/{recalled.hex}", "verify-recalled", lang)
    check_page(browser_tab, f"{site}/verify/0x{'ab' * 32}", "verify-unknown", lang)
    check_page(browser_tab, f"{site}/verify/not-an-id", "verify-malformed", lang)
    check_page(browser_tab, f"{site}/01/09506000134352/21/NOPE", "link-unknown", lang)
    # The label's link of a GS1 item, with its lot: the page a phone's camera opens.
    gtin, prefix = random_gtin()
    suite.register_gs1(merchant, gtin, prefix, "SN-7")
    shop.index()
    text = check_page(browser_tab, f"{site}/01/{gtin}/10/L24/21/SN-7", "link-authentic", lang)
    assert "L24" in text and "SN-7" in text
