"""The borrowers' credit pages in headless Chromium at a phone's size, in both languages: axe-core
finds no serious or critical violation, and each page's screenshot is kept with the others
(``.build/screenshots``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.page_language import Lang
from app.main import create_app
from harness.devtools import Page, browser_page
from tests.app.credit.line_story import Story
from tests.app.page.browser_checks import check_page
from tests.app.page.serving import served

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def site(story: Story) -> Iterator[str]:
    with served(create_app(story.client.app.state.services.settings)) as base:  # type: ignore[attr-defined]
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with browser_page(tmp_path) as tab:
        yield tab


@pytest.mark.parametrize("lang", list(Lang))
def test_credit_pages_pass_axe_in_both_languages(
    site: str, page: Page, story: Story, lang: Lang
) -> None:
    approved = check_page(page, f"{site}/credit/{story.approved.address}", "credit-approved", lang)
    denied = check_page(page, f"{site}/credit/{story.denied.address}", "credit-denied", lang)
    check_page(page, f"{site}/credit/0x{'12' * 20}", "credit-unknown", lang)

    assert ("批准" if lang is Lang.ZH else "Approved") in approved
    assert ("拒绝" if lang is Lang.ZH else "Denied") in denied
