"""The resolver's URI answers a program that asks for ``application/ld+json`` the item as linked
data (GS1 Web Vocabulary and schema.org terms), and its errors as the API's JSON errors; a
browser at the same URI still gets the page, and caches are told the answer varies by Accept."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from app.domain.ids import gs1_digital_link_path, item_key
from app.domain.metadata import metadata_hash
from app.domain.vocab import IdScheme
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import Item, random_gtin
from tests.app.page.passports import passport, png
from tests.app.page.test_resolver import BROWSER, gs1_item  # noqa: F401

LINKED = {"Accept": "application/ld+json"}


def properties(document: dict[str, Any]) -> dict[str, Any]:
    return {
        p["schema:propertyID"]: p["schema:value"] for p in document["schema:additionalProperty"]
    }


def test_a_program_gets_the_item_as_gs1_linked_data_at_the_labels_uri(
    shop: Shop,
    gs1_item: Item,  # noqa: F811
) -> None:
    gtin14 = gs1_item.metadata["gtin"].rjust(14, "0")
    serial = gs1_item.metadata["serial"]
    path = f"/01/{gtin14}/10/L24/21/{quote(serial, safe='')}"

    answer = shop.client.get(path, headers=LINKED)
    page = shop.client.get(path, headers=BROWSER)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert answer.headers["vary"] == "Accept"
    # The page is also worded by the reader's language.
    assert page.headers["vary"] == "Accept, Accept-Language"
    document = answer.json()
    assert document["@context"]["gs1"] == "https://ref.gs1.org/voc/"
    assert document["@type"] == ["gs1:Product", "schema:IndividualProduct"]
    assert document["@id"].endswith(path)
    assert document["gs1:gtin"] == gtin14
    assert document["gs1:hasSerialNumber"] == serial
    assert document["gs1:hasBatchLotNumber"] == "L24"
    assert document["gs1:verificationService"]["@id"].endswith(f"/v1/items/{gs1_item.hex}")
    facts = properties(document)
    record = shop.client.get(f"/v1/items/{gs1_item.hex}").json()
    assert facts["verdict"] == record["verdict"] == "authentic"
    assert facts["itemId"] == gs1_item.hex
    assert facts["merchant"] == record["merchant"]["address"]
    assert page.headers["content-type"].startswith("text/html")


def test_an_item_nobody_registered_is_linked_data_saying_unknown_with_404(shop: Shop) -> None:
    gtin, _prefix = random_gtin()

    answer = shop.client.get(gs1_digital_link_path(gtin, "404"), headers=LINKED)

    assert answer.status_code == 404
    assert properties(answer.json())["verdict"] == "unknown"


@pytest.mark.parametrize(
    ("tail", "status", "code"),
    [
        ("/extra", 404, "not_a_digital_link"),
        ("?linkType=gs1:recipeInfo", 404, "unknown_link_type"),
    ],
)
def test_a_program_asking_for_linked_data_gets_json_errors_with_codes(
    shop: Shop,
    gs1_item: Item,  # noqa: F811
    tail: str,
    status: int,
    code: str,
) -> None:
    path = gs1_digital_link_path(gs1_item.metadata["gtin"], gs1_item.metadata["serial"])

    answer = shop.client.get(path + tail, headers=LINKED)

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


def test_a_lot_too_long_or_no_serial_are_json_errors_to_a_program(shop: Shop) -> None:
    gtin, _prefix = random_gtin()

    too_long = shop.client.get(f"/01/{gtin}/10/{'L' * 21}/21/A1", headers=LINKED)
    no_serial = shop.client.get(f"/01/{gtin}/10/LOT-9", headers=LINKED)

    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "invalid_digital_link")
    assert (no_serial.status_code, no_serial.json()["error"]["code"]) == (404, "no_serial")


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("?linkType=linkset", BROWSER["Accept"]),
        ("?linkType=all", "*/*"),
        ("", "application/linkset+json"),
    ],
)
def test_the_items_links_are_a_linkset_that_every_answer_names(
    shop: Shop,
    gs1_item: Item,  # noqa: F811
    query: str,
    accept: str,
) -> None:
    gtin14 = gs1_item.metadata["gtin"].rjust(14, "0")
    path = f"/01/{gtin14}/10/L24/21/{quote(gs1_item.metadata['serial'], safe='')}"

    answer = shop.client.get(path + query, headers={"Accept": accept})
    page = shop.client.get(path, headers=BROWSER)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/linkset+json")
    assert answer.headers["vary"] == "Accept"
    (links,) = answer.json()["linkset"]
    assert links["anchor"].endswith(path)
    pip, default = links["https://gs1.org/voc/pip"], links["https://gs1.org/voc/defaultLink"]
    assert pip == default and pip[0]["href"] == links["anchor"]
    assert (pip[0]["type"], pip[0]["hreflang"]) == ("text/html", ["en", "zh-CN"])
    (record,) = links["https://gs1.org/voc/verificationService"]
    assert record["href"].endswith(f"/v1/items/{gs1_item.hex}")
    assert record["type"] == "application/json"
    # Each link the set names answers: the page in HTML, the record as this item's JSON.
    assert shop.client.get(pip[0]["href"], headers=BROWSER).status_code == 200
    assert shop.client.get(record["href"]).json()["item_id"] == gs1_item.hex
    # The page (and the linkset itself) say where the linkset is.
    expected = f'<{path}?linkType=linkset>; rel="linkset"; type="application/linkset+json"'
    assert page.headers["link"] == answer.headers["link"] == expected


def test_an_item_nobody_registered_has_no_linkset_and_a_browser_gets_its_page(shop: Shop) -> None:
    gtin, _prefix = random_gtin()
    path = gs1_digital_link_path(gtin, "404")

    program = shop.client.get(path, headers={"Accept": "application/linkset+json"})
    browser = shop.client.get(path + "?linkType=linkset", headers=BROWSER)

    assert (program.status_code, program.json()["error"]["code"]) == (404, "item_not_found")
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "Unknown item" in browser.text


def test_the_linked_data_names_the_product_from_its_passport_once_it_checks(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    picture = shop.client.post("/v1/media", content=png(40, 30)).json()["media_hash"]
    document = passport(image={"hash": picture})
    key = item_key(IdScheme.GS1, gtin, "P-1")
    suite.send(
        suite.registry.functions.registerItem(key, metadata_hash(document), ""), merchant.address
    )
    shop.index()
    path = gs1_digital_link_path(gtin, "P-1")

    unpublished = shop.client.get(path, headers=LINKED).json()
    assert shop.client.post("/v1/metadata", json=document).status_code == 201
    published = shop.client.get(path, headers=LINKED).json()
    with_lot = shop.client.get(f"/01/{gtin}/10/L9/21/P-1", headers=LINKED).json()

    # Nothing of the product before the passport that checks against the chain is there.
    assert "gs1:productName" not in unpublished and "gs1:hasBatchLotNumber" not in unpublished
    assert properties(published)["metadataCheck"] == "match"
    assert published["gs1:productName"] == [
        {"@value": "Stoneware mug", "@language": "en"},
        {"@value": "粗陶马克杯", "@language": "zh-CN"},
    ]
    assert published["gs1:productDescription"][0] == {
        "@value": "Glazed by hand.",
        "@language": "en",
    }
    assert published["gs1:countryOfOrigin"] == {"@type": "gs1:Country", "gs1:countryCode": "PT"}
    assert published["gs1:manufacturer"] == {
        "@type": "gs1:Organization",
        "gs1:organizationName": "Cerâmica Aveiro Lda",
        "gs1:globalLocationNumber": "5601234000006",
    }
    assert published["schema:image"]["@id"].endswith(f"/v1/media/{picture}")
    assert shop.client.get(published["schema:image"]["@id"]).content == png(40, 30)
    assert published["schema:productionDate"] == "2026-03-01"
    # The passport's lot where the link names none; the link's own where it does.
    assert (published["gs1:hasBatchLotNumber"], with_lot["gs1:hasBatchLotNumber"]) == (
        "WO-88",
        "L9",
    )
