"""``GET /v1/problem-reports`` and each report's photo are the verifiers' alone: contacts are
personal data and the words are unchecked. A shopper holds a receipt, which never shows them."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.app.conftest import SourceSecrets
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.photos import jpeg
from tests.app.page.problem_reports_support import (
    post_report,
    signed_get,
    with_verifier,
)


@pytest.fixture
def shop_settings(settings: Settings, verifier_secrets: SourceSecrets) -> Settings:
    return with_verifier(settings, verifier_secrets)


def test_reports_and_photos_are_not_read_without_a_verifiers_key(
    shop: Shop, suite: SuiteDriver, merchant: Actor, carrier_secrets: SourceSecrets
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex, photo=("p.jpg", jpeg(), "image/jpeg")).json()
    photo = f"/v1/problem-reports/{kept['receipt_id']}/photo"
    forged = SourceSecrets("nobody", "not-a-key", "not-a-secret")

    anonymous = [shop.client.get("/v1/problem-reports"), shop.client.get(photo)]
    as_carrier = [signed_get(shop, p, carrier_secrets) for p in ("/v1/problem-reports", photo)]
    as_forger = [signed_get(shop, p, forged) for p in ("/v1/problem-reports", photo)]

    assert [(a.status_code, a.json()["error"]["code"]) for a in anonymous] == [
        (401, "missing_api_key")
    ] * 2
    assert [(a.status_code, a.json()["error"]["code"]) for a in as_carrier] == [
        (403, "source_not_allowed")
    ] * 2
    assert [a.json()["error"]["code"] for a in as_forger] == ["invalid_api_key"] * 2
    for answer in (*anonymous, *as_carrier, *as_forger):
        assert "jane@example.com" not in answer.text and "crooked" not in answer.text


def test_the_receipt_is_the_shoppers_view_without_the_contact(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex).json()

    receipt = shop.client.get(f"/problem-reports/{kept['receipt_id']}")
    guessed = shop.client.get("/problem-reports/pr_" + "A" * 22)
    malformed = shop.client.get("/problem-reports/1")

    assert receipt.status_code == 200 and "contact" not in receipt.json()
    assert "jane@example.com" not in receipt.text
    assert (guessed.status_code, guessed.json()["error"]["code"]) == (404, "receipt_not_found")
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (
        422,
        "invalid_receipt_id",
    )


def test_verifiers_page_through_the_reports_oldest_first(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier_secrets: SourceSecrets
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    sent = [post_report(shop, item.hex, details=f"report {n}").json() for n in range(3)]

    first = signed_get(shop, "/v1/problem-reports?limit=2", verifier_secrets).json()
    second = signed_get(shop, "/v1/problem-reports?limit=2&offset=2", verifier_secrets).json()
    confirmed = signed_get(shop, "/v1/problem-reports?review=confirmed", verifier_secrets).json()

    listed = [r["receipt_id"] for r in first["reports"] + second["reports"]]
    assert listed == [s["receipt_id"] for s in sent]
    assert confirmed == {"review": "confirmed", "reports": []}
    assert first["reports"][0]["photo_url"] is None and first["reports"][0]["onchain_kind"] == 0
