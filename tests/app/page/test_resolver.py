"""The shopper's page as a GS1 Digital Link resolver: ``/01/{gtin}`` with the key qualifiers
``/22/{cpv}``, ``/10/{lot}`` and ``/21/{serial}`` in that order, a trailing slash, query
attributes and ``linkType``; HTML for browsers on every error; verdicts worded truthfully for an
item the service cannot know of yet."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from app.domain.ids import gs1_digital_link_path
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import Item, random_gtin

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NOT_A_LINK = "not a GS1 Digital Link this resolver knows"


@pytest.fixture
def gs1_item(shop: Shop, suite: SuiteDriver, merchant: Actor) -> Item:
    gtin, prefix = random_gtin()
    item = suite.register_gs1(merchant, gtin, prefix, "SN/7")  # a "/" the link percent-encodes
    shop.index()
    return item


def _path(item: Item) -> str:
    return gs1_digital_link_path(item.metadata["gtin"], item.metadata["serial"])


def _authentic_page_of(item: Item, page_text: str) -> bool:
    return '<h1 id="verdict">Authentic</h1>' in page_text and item.hex in page_text


@pytest.mark.parametrize("tail", ["/", "?17=261231&utm_source=label", "/?linkType=gs1:pip"])
def test_a_trailing_slash_or_query_attributes_resolve_to_the_items_page(
    shop: Shop, gs1_item: Item, tail: str
) -> None:
    page = shop.client.get(_path(gs1_item) + tail)

    assert page.status_code == 200, page.text
    assert _authentic_page_of(gs1_item, page.text)


@pytest.mark.parametrize("tail", ["/extra", "/10/LOT-1", "/21/again", "//"])
def test_a_further_segment_answers_a_404_page_saying_the_link_is_unknown_not_a_verdict(
    shop: Shop, gs1_item: Item, tail: str
) -> None:
    page = shop.client.get(_path(gs1_item) + tail)

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert NOT_A_LINK in page.text
    assert "Not authentic" not in page.text and "Unknown item" not in page.text


def test_the_canonical_form_with_a_lot_and_cpv_resolves_to_the_same_item_and_shows_the_lot(
    shop: Shop, gs1_item: Item
) -> None:
    gtin14 = "0" * (14 - len(gs1_item.metadata["gtin"])) + gs1_item.metadata["gtin"]
    serial = quote(gs1_item.metadata["serial"], safe="")

    with_lot = shop.client.get(f"/01/{gtin14}/10/L%2F24-B/21/{serial}")
    with_cpv = shop.client.get(f"/01/{gtin14}/22/RED-42/10/L24/21/{serial}/")

    assert with_lot.status_code == 200, with_lot.text
    assert _authentic_page_of(gs1_item, with_lot.text)
    assert '<dd id="lot">L/24-B</dd>' in with_lot.text
    assert with_cpv.status_code == 200, with_cpv.text
    assert _authentic_page_of(gs1_item, with_cpv.text)
    assert '<dd id="lot">L24</dd>' in with_cpv.text


def test_a_lot_longer_than_gs1_allows_answers_422(shop: Shop, gs1_item: Item) -> None:
    page = shop.client.get(f"/01/{gs1_item.metadata['gtin']}/10/{'L' * 21}/21/A1")

    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "lot" in page.text


def test_a_link_without_a_serial_answers_a_404_page_saying_items_are_named_by_serial(
    shop: Shop, gs1_item: Item
) -> None:
    page = shop.client.get(f"/01/{gs1_item.metadata['gtin']}/10/LOT-9", headers=BROWSER)

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "no serial" in page.text


def test_link_type_verification_service_redirects_to_the_items_json(
    shop: Shop, gs1_item: Item
) -> None:
    link = _path(gs1_item) + "?linkType=gs1:verificationService"

    moved = shop.client.get(link, follow_redirects=False)
    followed = shop.client.get(link)

    assert moved.status_code == 307
    assert moved.headers["location"] == f"/v1/items/{gs1_item.hex}"
    assert followed.json()["item_id"] == gs1_item.hex
    assert followed.json()["verdict"] == "authentic"


@pytest.mark.parametrize("link_type", ["gs1:linkset", "linksets", "gs1:recipeInfo"])
def test_an_unknown_link_type_answers_404_listing_the_known_ones(
    shop: Shop, gs1_item: Item, link_type: str
) -> None:
    page = shop.client.get(_path(gs1_item), params={"linkType": link_type})

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "gs1:pip" in page.text and "gs1:verificationService" in page.text
    assert "linkset" in page.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"/verify/0x{'ab' * 32}/more", 404),
        ("GET", "/no/such/page", 404),
        ("POST", f"/verify/0x{'ab' * 32}", 405),
    ],
)
def test_a_browser_gets_an_html_error_page_where_it_got_json(
    shop: Shop, method: str, path: str, status: int
) -> None:
    browser = shop.client.request(method, path, headers=BROWSER)
    program = shop.client.request(method, path)

    assert browser.status_code == status
    assert browser.headers["content-type"].startswith("text/html")
    assert "<!DOCTYPE html>" in browser.text
    assert program.status_code == status
    assert program.json()["error"]["code"] in {"not_found", "method_not_allowed"}


def test_the_json_api_keeps_answering_json_errors_to_a_browser(shop: Shop) -> None:
    answer = shop.client.get("/v1/items/0x12", headers=BROWSER)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_item_id"


def test_an_item_of_a_registered_but_unpublished_batch_is_not_yet_verifiable(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    batch = suite.register_batch(merchant, count=2, gtin=gtin)
    shop.index()
    link = gs1_digital_link_path(gtin, "0001")

    before = shop.client.get(link)
    published = shop.client.post(
        f"/v1/batches/{batch.hex}/manifest",
        json={"manifest": batch.manifest, "signature": suite.sign_manifest(merchant, batch)},
    )
    after = shop.client.get(link)

    assert '<h1 id="verdict">Not yet verifiable</h1>' in before.text
    assert "has not published" in before.text
    assert "Not authentic" not in before.text and "No verified merchant" not in before.text
    assert published.status_code == 201, published.text
    assert after.status_code == 200
    assert '<h1 id="verdict">Authentic</h1>' in after.text


def test_an_item_the_service_cannot_know_of_is_unknown_without_a_claim_of_counterfeit(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)  # a merchant with the prefix but no batch
    shop.index()

    pages = [
        shop.client.get(gs1_digital_link_path(gtin, "404")),
        shop.client.get(gs1_digital_link_path(random_gtin()[0], "404")),  # nobody's prefix
        shop.client.get(f"/verify/0x{'ab' * 32}"),
    ]

    for page in pages:
        assert page.status_code == 404
        assert '<h1 id="verdict">Unknown item</h1>' in page.text
        assert "No registered item or published batch matches this link." in page.text
        assert "Not authentic" not in page.text and "counterfeit" not in page.text
