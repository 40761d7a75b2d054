"""An item's open reports, as its page and public record show them, are those a verifier filed.

``fileReport`` is open to anyone for the price of gas: a rival filing reports against a genuine
item must not put "open reports awaiting a verifier" on its page, nor make an id nobody
registered known. Both ways of reading (the index, and the chain with ``?fresh=true``) apply the
rule.
"""

from __future__ import annotations

import secrets

import pytest

from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.problem_reports_support import file_onchain, new_verifier, set_verifier

EVIDENCE = "0x" + "5a" * 32
OPEN_REPORTS_WORDS = "open report(s) awaiting a verifier"


@pytest.fixture
def verifier(suite: SuiteDriver, start_block: int) -> Actor:
    return new_verifier(suite)


def open_reports(shop: Shop, item_hex: str) -> tuple[int, int]:
    """(from the index, from the chain)."""
    found = []
    for fresh in ("false", "true"):
        answer = shop.client.get(f"/v1/items/{item_hex}?fresh={fresh}")
        assert answer.status_code == 200, answer.text
        found.append(answer.json()["open_reports"])
    return found[0], found[1]


def test_reports_anyone_files_say_nothing_until_a_verifier_files_one(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor, verifier: Actor
) -> None:
    item = suite.register_item(merchant)
    for _ in range(3):
        file_onchain(suite, item.hex, 0, EVIDENCE, by=shopper)
    shop.index()

    assert open_reports(shop, item.hex) == (0, 0)
    page = shop.client.get(f"/verify/{item.hex}")
    assert OPEN_REPORTS_WORDS not in page.text
    assert "Authentic" in page.text

    file_onchain(suite, item.hex, 0, EVIDENCE, by=verifier)
    shop.index()

    assert open_reports(shop, item.hex) == (1, 1)
    assert f"1 {OPEN_REPORTS_WORDS}" in shop.client.get(f"/verify/{item.hex}").text


def test_a_report_filed_by_an_account_once_a_verifier_no_longer_counts(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier: Actor
) -> None:
    """The role when the report was filed decides, in both readings."""
    item = suite.register_item(merchant)
    file_onchain(suite, item.hex, 0, EVIDENCE, by=verifier)
    set_verifier(suite, verifier, granted=False)
    file_onchain(suite, item.hex, 0, EVIDENCE, by=verifier)
    shop.index()

    assert open_reports(shop, item.hex) == (1, 1)


def test_reports_on_an_id_nobody_registered_do_not_make_it_known(
    shop: Shop, suite: SuiteDriver, shopper: Actor
) -> None:
    nobody = "0x" + secrets.token_hex(32)
    file_onchain(suite, nobody, 0, EVIDENCE, by=shopper)
    shop.index()

    for fresh in ("false", "true"):
        answer = shop.client.get(f"/v1/items/{nobody}?fresh={fresh}")
        assert answer.status_code == 404, answer.text
