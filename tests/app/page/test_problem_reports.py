"""A shopper reports a problem from an item's page, without a wallet: the form, the receipt, and
the receipt and page following the registry's report a verifier files with the receipt's
evidence hash. Refusals keep what the shopper typed; hostile words stay words."""

from __future__ import annotations

import hashlib
import re

import pytest

from app.domain.ids import gs1_digital_link_path
from app.settings import Settings
from tests.app.conftest import SourceSecrets
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import random_gtin
from tests.app.page.photos import GPS, jpeg, png
from tests.app.page.problem_reports_support import (
    BROWSER,
    dismiss,
    file_onchain,
    new_verifier,
    post_report,
    set_verifier,
    signed_get,
    with_verifier,
)

HOSTILE = '</textarea><script>alert("x")</script><img src=x onerror=alert(1)>'


def _receipt_path(answer: object) -> str:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/problem-reports/pr_[A-Za-z0-9_-]{22}\?lang=(en|zh-CN)", location)
    return str(location)


@pytest.fixture
def verifier(suite: SuiteDriver, start_block: int) -> Actor:
    return new_verifier(suite)


@pytest.fixture
def shop_settings(settings: Settings, verifier_secrets: SourceSecrets) -> Settings:
    return with_verifier(settings, verifier_secrets)


def test_the_item_page_has_a_labelled_form_that_posts_without_javascript(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert (
        f'<form method="post" action="/verify/{item.hex}/problem-reports?lang=en" '
        'enctype="multipart/form-data">' in html
    )
    assert "<script" not in html
    for field in ("reason-counterfeit", "problem-details", "problem-photo", "problem-contact"):
        assert f'id="{field}"' in html and f'for="{field}"' in html
    assert 'accept="image/jpeg,image/png"' in html
    assert 'id="problem-report-review"' not in html


def test_a_report_is_kept_with_a_receipt_that_follows_the_registrys_report(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    verifier: Actor,
    verifier_secrets: SourceSecrets,
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    sent = post_report(shop, item.hex, photo=("fake.jpg", jpeg(), "image/jpeg"), headers=BROWSER)

    assert sent.status_code == 303
    receipt = shop.client.get(_receipt_path(sent), headers=BROWSER)
    assert receipt.status_code == 200
    assert "Received: a verifier will look at it." in receipt.text
    assert "The logo is printed crooked" in receipt.text
    assert "jane@example.com" not in receipt.text  # the contact is for verifiers alone
    assert "Reported, under review" not in shop.client.get(f"/verify/{item.hex}").text

    listed = signed_get(shop, "/v1/problem-reports?review=received", verifier_secrets).json()
    (report,) = [r for r in listed["reports"] if r["item_id"] == item.hex]
    assert report["contact"] == "jane@example.com"
    assert report["open_command"] == (
        f"ape run ops file-report {item.hex} --kind 0 --evidence-hash {report['evidence_hash']}"
    )

    report_id = file_onchain(suite, item.hex, 0, report["evidence_hash"], by=verifier)
    shop.index()

    receipt = shop.client.get(_receipt_path(sent), headers=BROWSER).text
    assert '<p id="review">Reported, under review by a verifier</p>' in receipt
    assert f'<dd id="onchain-report">#{report_id}</dd>' in receipt
    page = shop.client.get(f"/verify/{item.hex}").text
    assert "Reported, under review by a verifier" in page
    under_review = signed_get(shop, "/v1/problem-reports?review=under_review", verifier_secrets)
    assert [r["receipt_id"] for r in under_review.json()["reports"]] == [report["receipt_id"]]

    dismiss(suite, report_id)
    shop.index()

    dismissed = shop.client.get(_receipt_path(sent), headers=BROWSER).text
    assert "A verifier dismissed the report" in dismissed
    as_json = shop.client.get(_receipt_path(sent).split("?")[0]).json()
    assert (as_json["review"], as_json["onchain_report_id"]) == ("dismissed", report_id)


def test_a_report_on_chain_with_another_hash_or_item_leaves_the_receipt_received(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier: Actor
) -> None:
    item, other = suite.register_item(merchant), suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex).json()

    file_onchain(suite, other.hex, 0, kept["evidence_hash"], by=verifier)  # on another item
    file_onchain(suite, item.hex, 0, "0x" + "ab" * 32, by=verifier)  # with other evidence
    shop.index()

    again = shop.client.get(f"/problem-reports/{kept['receipt_id']}").json()
    assert (again["review"], again["onchain_report_id"]) == ("received", None)
    assert "Reported, under review" not in shop.client.get(f"/verify/{item.hex}").text


def test_a_report_filed_again_after_a_dismissal_is_under_review_as_the_new_one(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex).json()
    first = file_onchain(suite, item.hex, 0, kept["evidence_hash"], by=verifier)
    dismiss(suite, first)
    second = file_onchain(suite, item.hex, 0, kept["evidence_hash"], by=verifier)
    shop.index()

    again = shop.client.get(f"/problem-reports/{kept['receipt_id']}").json()

    assert (again["review"], again["onchain_report_id"]) == ("under_review", second)


def test_a_report_filed_on_chain_by_someone_not_a_verifier_opens_no_review(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    shopper: Actor,
    verifier: Actor,
    verifier_secrets: SourceSecrets,
) -> None:
    """``fileReport`` is open to anyone: the shopper holding the receipt files it with its
    evidence hash themselves. The receipt stays received and the item's page says nothing, until
    a verifier files it."""
    item = suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex).json()

    file_onchain(suite, item.hex, 0, kept["evidence_hash"], by=shopper)
    shop.index()

    again = shop.client.get(f"/problem-reports/{kept['receipt_id']}").json()
    assert (again["review"], again["onchain_report_id"]) == ("received", None)
    assert "Reported, under review" not in shop.client.get(f"/verify/{item.hex}").text
    received = signed_get(shop, "/v1/problem-reports?review=received", verifier_secrets).json()
    assert kept["receipt_id"] in [r["receipt_id"] for r in received["reports"]]

    report_id = file_onchain(suite, item.hex, 0, kept["evidence_hash"], by=verifier)
    shop.index()

    again = shop.client.get(f"/problem-reports/{kept['receipt_id']}").json()
    assert (again["review"], again["onchain_report_id"]) == ("under_review", report_id)
    assert "Reported, under review" in shop.client.get(f"/verify/{item.hex}").text


def test_a_report_filed_after_the_verifiers_role_was_revoked_opens_no_review(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    kept = post_report(shop, item.hex).json()

    set_verifier(suite, verifier, granted=False)
    file_onchain(suite, item.hex, 0, kept["evidence_hash"], by=verifier)
    set_verifier(suite, verifier, granted=True)  # afterwards: the role when it filed counts
    shop.index()

    again = shop.client.get(f"/problem-reports/{kept['receipt_id']}").json()
    assert (again["review"], again["onchain_report_id"]) == ("received", None)
    assert "Reported, under review" not in shop.client.get(f"/verify/{item.hex}").text


def test_a_program_gets_the_receipt_as_json_with_its_location(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    answer = post_report(
        shop, item.hex, reason="not_as_described", photo=("p.png", png(), "image/png")
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["review"] == "received" and body["photo_attached"] is True
    assert body["reason"] == "not_as_described" and "contact" not in body
    assert answer.headers["location"] == f"/problem-reports/{body['receipt_id']}?lang=en"


def test_the_gs1_page_of_an_item_carries_the_form(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    batch = suite.register_batch(merchant, count=2, gtin=gtin)
    suite.activate(batch, batch.item_ids[1], merchant.address)
    shop.index()

    html = shop.client.get(gs1_digital_link_path(gtin, "0001")).text

    assert f'action="/verify/0x{batch.item_ids[1].hex()}/problem-reports?lang=en"' in html


def test_the_form_speaks_chinese_when_the_page_does(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}?lang=zh-CN").text
    refused = post_report(shop, item.hex, reason="", headers=BROWSER, lang="zh-CN")

    assert "报告问题" in html and "problem-reports?lang=zh-CN" in html
    assert refused.status_code == 422 and "请选择问题类型。" in refused.text
    assert '<html lang="zh-CN">' in refused.text


@pytest.mark.parametrize("accept", [BROWSER, {}])
def test_too_many_reports_from_one_address_are_refused_429_keeping_the_words(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor, accept: dict[str, str]
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    allowed = shop_settings.problem_reports_per_minute

    answers = [post_report(shop, item.hex, details=f"report {n}") for n in range(allowed)]
    over = post_report(shop, item.hex, details="one too many", headers=accept)

    assert [a.status_code for a in answers] == [201] * allowed
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    if accept:
        assert "one too many</textarea>" in over.text and 'role="alert"' in over.text
    else:
        assert over.json()["error"]["code"] == "rate_limited"


def test_an_oversized_photo_is_refused_413_and_the_form_comes_back_filled_in(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    big = jpeg(padding=shop_settings.problem_report_photo_max_bytes)

    program = post_report(shop, item.hex, photo=("big.jpg", big, "image/jpeg"))
    person = post_report(
        shop,
        item.hex,
        details="crooked logo",
        photo=("big.jpg", big, "image/jpeg"),
        headers=BROWSER,
    )

    assert program.status_code == 413
    assert program.json()["error"]["code"] == "photo_too_large"
    assert person.status_code == 413
    assert "crooked logo</textarea>" in person.text
    assert 'value="jane@example.com"' in person.text
    assert (
        'id="reason-counterfeit" name="reason" value="counterfeit" required checked' in person.text
    )
    assert 'id="problem-photo" name="photo"' in person.text and 'aria-invalid="true"' in person.text


def test_a_body_over_the_limit_is_refused_unread(
    shop_settings: Settings, shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    huge = b"\xff\xd8\xff" + b"\x00" * shop_settings.problem_report_body_max_bytes

    answer = post_report(shop, item.hex, photo=("huge.jpg", huge, "image/jpeg"))

    assert answer.status_code == 413 and answer.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("photo", "code", "status"),
    [
        (
            ("fake.jpg", b"<html><script>alert(1)</script>", "image/jpeg"),
            "photo_type_not_allowed",
            415,
        ),
        (
            ("fake.png", b"GIF89a\x01\x00\x01\x00\x00\x00", "image/png"),
            "photo_type_not_allowed",
            415,
        ),
        (("cut.jpg", jpeg()[:30], "image/jpeg"), "photo_unreadable", 422),
    ],
)
def test_a_photo_is_taken_for_what_its_bytes_are_not_its_name_or_type(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    photo: tuple[str, bytes, str],
    code: str,
    status: int,
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    answer = post_report(shop, item.hex, photo=photo)

    assert answer.status_code == status
    assert answer.json()["error"] == {
        "code": code,
        "message": answer.json()["error"]["message"],
        "details": {"field": "photo"},
    }


@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"details": "x" * 2_001}, "text_too_long", 422),
        ({"contact": "x" * 201}, "text_too_long", 422),
        ({"reason": "it is bad"}, "invalid_reason", 422),
        ({"reason": ""}, "invalid_reason", 422),
    ],
)
def test_bad_words_are_refused_with_their_code_and_nothing_typed_is_lost(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    fields: dict[str, str],
    code: str,
    status: int,
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    program = post_report(shop, item.hex, **fields)  # type: ignore[arg-type]
    person = post_report(shop, item.hex, headers=BROWSER, **fields)  # type: ignore[arg-type]

    assert program.status_code == status and program.json()["error"]["code"] == code
    assert person.status_code == status
    assert "crooked</textarea>" in person.text or "x" * 2_001 in person.text
    assert 'value="jane@example.com"' in person.text or "x" * 201 in person.text
    for name, value in fields.items():
        # A reason is chosen, not typed: one the form does not offer leaves none chosen.
        assert (value in person.text) if name != "reason" else (" checked" not in person.text)


def test_an_unknown_or_malformed_item_is_refused_with_its_code(shop: Shop) -> None:
    unknown = post_report(shop, "0x" + "77" * 32)
    malformed = post_report(shop, "0x1234")
    malformed_page = post_report(shop, "0x1234", details="kept words", headers=BROWSER)

    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_item"
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "invalid_item_id"
    assert "kept words</textarea>" in malformed_page.text


def test_hostile_words_stay_words_on_every_page(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier_secrets: SourceSecrets
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    sent = post_report(shop, item.hex, details=HOSTILE, contact=HOSTILE, headers=BROWSER)
    refused = post_report(
        shop, item.hex, reason="nope", details=HOSTILE, contact=HOSTILE, headers=BROWSER
    )
    receipt = shop.client.get(_receipt_path(sent), headers=BROWSER).text
    listed = signed_get(shop, "/v1/problem-reports", verifier_secrets)

    for html in (receipt, refused.text):
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;/textarea&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert listed.headers["content-type"] == "application/json"
    assert [r["details"] for r in listed.json()["reports"]] == [HOSTILE]


def test_the_photo_verifiers_read_has_no_location_in_it(
    shop: Shop, suite: SuiteDriver, merchant: Actor, verifier_secrets: SourceSecrets
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    post_report(shop, item.hex, photo=("phone.jpg", jpeg(trailing=b"Exif" + GPS), "image/jpeg"))

    (report,) = signed_get(shop, "/v1/problem-reports", verifier_secrets).json()["reports"]
    photo = signed_get(shop, report["photo_url"], verifier_secrets)

    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert GPS not in photo.content and b"Exif" not in photo.content
    assert hashlib.sha256(photo.content).hexdigest() == report["photo_sha256"]
    assert report["photo_bytes"] == len(photo.content)
