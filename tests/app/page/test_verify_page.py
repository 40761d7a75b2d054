"""``GET /verify/{id}`` and GS1 Digital Link ``/01/{gtin}/21/{serial}``: the shopper's HTML page,
its verdict and why, the merchant, the custody trail with transactions, the batch proof; and the
label QR codes ``/v1/items/{id}/qr.svg`` and ``.png``."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import segno
from web3 import Web3
from web3.contract import Contract

from app.domain.ids import gs1_digital_link_path, item_id_from_gs1
from app.domain.vocab import CustodyAction
from app.shop.labels import verify_url
from harness.ape_run import ADMIN
from harness.browser import png_size
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.index.records import random_gtin

GTIN = "09506000134352"


def _tx(receipt: Any) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def test_authentic_item_page_shows_verdict_merchant_metadata_and_trail_with_transactions(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant, name="Trail <shoe> & co")
    shipped = suite.record_custody(merchant, item.item_id, CustodyAction.SHIPPED)
    shop.index()

    page = shop.client.get(f"/verify/{item.hex}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<h1 id="verdict">Authentic</h1>' in html
    assert 'id="reason"' not in html
    assert "Test Goods Ltd" in html and merchant.address in html
    assert item.uri in html and "No product data was published for this item" in html
    assert _tx(item.receipt) in html and _tx(shipped) in html
    assert html.index("Registered") < html.index("Shipped")
    assert f'href="/v1/items/{item.hex}"' in html


def test_recalled_item_page_says_not_authentic_recalled_by_the_merchant(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    recall = suite.recall_item(merchant, item.item_id)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert '<h1 id="verdict">Not authentic</h1>' in html
    assert '<p id="reason">Recalled by the merchant</p>' in html
    assert _tx(recall) in html


def test_confirmed_report_page_says_reported_counterfeit(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    item = suite.register_item(merchant)
    suite.confirm_report(suite.file_report(shopper, item.item_id))
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert '<p id="reason">Reported counterfeit (confirmed)</p>' in html


def test_batch_item_page_shows_root_and_verified_proof(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant, count=4)
    shop.index()
    published = shop.client.post(
        f"/v1/batches/{batch.hex}/manifest",
        json={"manifest": batch.manifest, "signature": suite.sign_manifest(merchant, batch)},
    )
    assert published.status_code == 201, published.text

    html = shop.client.get(f"/verify/0x{batch.item_ids[1].hex()}").text

    assert '<h1 id="verdict">Authentic</h1>' in html
    assert batch.hex in html
    assert '<dd id="proof">verified: the proof rebuilds the root</dd>' in html


def test_unknown_item_page_answers_404_unknown_item(shop: Shop) -> None:
    shop.index()

    page = shop.client.get(f"/verify/0x{'ab' * 32}")

    assert page.status_code == 404
    assert '<h1 id="verdict">Unknown item</h1>' in page.text


def test_malformed_item_id_page_answers_422(shop: Shop) -> None:
    page = shop.client.get("/verify/0x1234")

    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "Invalid item id" in page.text


def test_gs1_digital_link_resolves_to_the_items_page_with_a_percent_encoded_serial(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    serial = "A/1%b&c?"
    gtin, prefix = random_gtin()
    item = suite.register_gs1(merchant, gtin, prefix, serial)
    assert item.item_id == item_id_from_gs1(gtin, serial)
    shop.index()

    page = shop.client.get(gs1_digital_link_path(gtin, serial))

    assert page.status_code == 200, page.text
    assert '<h1 id="verdict">Authentic</h1>' in page.text
    assert item.hex in page.text


def test_gs1_link_with_a_bad_check_digit_answers_422_with_the_reason(shop: Shop) -> None:
    bad = GTIN[:-1] + "3"

    page = shop.client.get(f"/01/{bad}/21/A1")

    assert page.status_code == 422
    assert "Invalid GS1 link" in page.text
    assert f"GTIN &#x27;{bad}&#x27; has a wrong check digit" in page.text


def test_gs1_link_with_an_invalid_serial_answers_422(shop: Shop) -> None:
    page = shop.client.get(f"/01/{GTIN}/21/{'x' * 21}")

    assert page.status_code == 422
    assert "GS1 serial must be" in page.text


def test_page_escapes_what_the_chain_says(shop: Shop, suite: SuiteDriver) -> None:
    merchant = suite.new_account()
    suite.send(
        suite.registry.functions.approveMerchant(
            merchant.address, "<script>alert(1)</script>", Web3.keccak(text=merchant.address)
        ),
        ADMIN,
    )
    item = suite.register_item(merchant, uri='https://x.example/"><b>hi</b>')
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>hi</b>" not in html and "&quot;&gt;&lt;b&gt;hi&lt;/b&gt;" in html


def test_qr_svg_of_an_item_no_manifest_names_encodes_its_verify_url(shop: Shop) -> None:
    item_hex = "0x" + "cd" * 32
    url = verify_url(shop.app.state.index.settings, item_hex)
    assert url == f"http://127.0.0.1:8000/verify/{item_hex}"

    response = shop.client.get(f"/v1/items/{item_hex}/qr.svg")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-cache"  # a manifest may name it later
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    expected = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, xmldecl=True
    )
    assert response.content == expected.getvalue()  # the same matrix, drawn the same way


def test_qr_png_is_a_png_of_the_verify_urls_matrix(shop: Shop) -> None:
    item_hex = "0x" + "ef" * 32
    code = segno.make(verify_url(shop.app.state.index.settings, item_hex), error="m", micro=False)

    response = shop.client.get(f"/v1/items/{item_hex.upper().replace('0X', '0x')}/qr.png")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    side = (code.symbol_size(scale=1, border=0)[0] + 2 * 4) * 8
    assert png_size(response.content) == (side, side)
    expected = io.BytesIO()
    code.save(expected, kind="png", scale=8, border=4)
    assert response.content == expected.getvalue()


def test_qr_of_a_malformed_id_answers_422_invalid_item_id(shop: Shop) -> None:
    response = shop.client.get("/v1/items/0x12/qr.svg")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_item_id"


def test_sold_item_page_shows_the_escrow_sale_and_the_sellers_record(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id], amount=3 * 10**15)
    suite.ship(merchant, order)
    suite.confirm_receipt(buyer, order)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert "<h2>Escrow sale</h2>" in html
    assert f'href="/v1/orders/{order.hex}"' in html
    assert "<dd>released</dd>" in html and buyer.address in html
    assert "<dd>1 of 1 orders completed, 0 disputes lost</dd>" in html
    assert "<strong>Sold</strong>" in html
    assert "hash only" not in html  # a sale's record names the buyer and order shown above
    assert '<dd id="amount">0.003 ETH</dd>' in html and "base units" not in html


def test_a_sale_in_a_token_shows_its_amount_with_the_tokens_symbol_and_decimals(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    stable = _deploy_mock_stable(suite)
    suite.send(suite.escrow.functions.setTokenAllowed(stable.address, True), ADMIN)
    amount = 480 * 10**6  # 480 of a 6-decimals token
    suite.send(stable.functions.mint(buyer.address, amount), buyer.address)
    suite.send(stable.functions.approve(suite.escrow.address, amount), buyer.address)
    item = suite.register_item(merchant)
    suite.open_order(buyer, merchant, [item.item_id], amount=amount, token=stable.address)
    shop.index()

    html = shop.client.get(f"/verify/{item.hex}").text

    assert '<dd id="amount">480.00 mUSD</dd>' in html and "base units" not in html


def _deploy_mock_stable(suite: SuiteDriver) -> Contract:
    """contracts/test/escrow/MockStable6.sol ("mUSD", 6 decimals, anyone mints), deployed from
    its compiled artifact."""
    from ape import project

    contract_type = project.MockStable6.contract_type
    abi = [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]
    bytecode = contract_type.deployment_bytecode.bytecode
    receipt = suite.send(suite.w3.eth.contract(abi=abi, bytecode=bytecode).constructor(), ADMIN)
    return suite.w3.eth.contract(address=receipt["contractAddress"], abi=abi)
