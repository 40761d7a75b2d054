"""The dashboards in headless Chromium at a phone's size, in both languages: axe-core finds no
serious or critical violation (charts are named images, their numbers in tables), and each
page's screenshot is kept with the others (``.build/screenshots``)."""

from __future__ import annotations

import pytest

from app.api.page_language import Lang
from app.main import create_app
from harness.devtools import Page
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.browser_checks import check_page
from tests.app.page.serving import served
from tests.app.stats.story import play_story

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize("lang", list(Lang))
def test_dashboards_pass_axe_in_both_languages(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor,
    browser_tab: Page, lang: Lang,
) -> None:  # fmt: skip
    play_story(suite, merchant, buyer, shopper)
    shop.index()

    with served(create_app(shop.app.state.services.settings)) as site:
        platform = check_page(browser_tab, f"{site}/dashboard", "dashboard", lang)
        mine = check_page(
            browser_tab,
            f"{site}/dashboard/merchants/{merchant.address}",
            "dashboard-merchant",
            lang,
        )

    assert ("数据看板" if lang is Lang.ZH else "TrustMall dashboard") in platform
    assert (
        "Test Goods Ltd 的数据看板" if lang is Lang.ZH else "Dashboard of Test Goods Ltd"
    ) in mine
