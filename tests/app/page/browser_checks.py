"""A page checked as people get it: loaded in Chromium as a reader of one language, held to
axe-core (no serious or critical violation), and photographed into ``.build/screenshots``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.page_language import Lang
from harness.browser import PHONE_HEIGHT, PHONE_WIDTH, png_size
from harness.devtools import Page, blocking, browser_page

SCREENSHOTS = Path(__file__).resolve().parents[3] / ".build" / "screenshots"


def check_page(page: Page, url: str, name: str, lang: Lang) -> str:
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


@pytest.fixture
def browser_tab(tmp_path: Path) -> Iterator[Page]:
    """A tab of a fresh headless Chromium at a phone's size, for one test."""
    with browser_page(tmp_path) as tab:
        yield tab
