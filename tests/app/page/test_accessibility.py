"""Every page people read, in both languages, in headless Chromium at a phone's size: axe-core
finds no serious or critical violation, nothing is loaded from outside the service, and each
page's screenshot is kept (``.build/screenshots``) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.page_language import Lang
from app.main import create_app
from app.settings import Settings
from harness.browser import PHONE_HEIGHT, PHONE_WIDTH, png_size
from harness.devtools import Page, blocking, browser_page
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.serving import served

SCREENSHOTS = Path(__file__).resolve().parents[3] / ".build" / "screenshots"


@pytest.fixture
def site(shop: Shop, shop_settings: Settings) -> Iterator[str]:
    with served(create_app(shop_settings)) as base:
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with browser_page(tmp_path) as tab:
        yield tab


def _check(page: Page, url: str, name: str, lang: Lang) -> str:
    """Load ``url`` as a reader of ``lang``; the page's language, axe-core's verdict and a
    screenshot. Returns the page's text."""
    page.open(url, language=lang.value)
    assert page.evaluate("document.documentElement.lang") == lang.value
    violations = blocking(page.accessibility_violations())
    assert not violations, "\n".join(map(str, violations))
    shot = page.screenshot(SCREENSHOTS / f"{name}.{lang.value}.png")
    assert png_size(shot) == (PHONE_WIDTH, PHONE_HEIGHT)
    text: str = page.evaluate("document.body.innerText")
    return text


@pytest.mark.parametrize("lang", list(Lang))
def test_item_pages_pass_axe_in_both_languages(
    site: str, page: Page, shop: Shop, suite: SuiteDriver, merchant: Actor, lang: Lang
) -> None:
    authentic = suite.register_item(merchant)
    recalled = suite.register_item(merchant)
    suite.recall_item(merchant, recalled.item_id)
    shop.index()

    _check(page, f"{site}/verify/{authentic.hex}", "verify-authentic", lang)
    _check(page, f"{site}/verify/{recalled.hex}", "verify-recalled", lang)
    _check(page, f"{site}/verify/0x{'ab' * 32}", "verify-unknown", lang)
    _check(page, f"{site}/verify/not-an-id", "verify-malformed", lang)
