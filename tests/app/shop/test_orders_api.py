"""``GET /v1/merchants/{address}``, ``/v1/orders/{id}`` and ``/v1/disputes``: what the index holds
about merchants, escrow orders and their disputes, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.index.actors import ZERO_ADDRESS, Actor, Shop, SuiteDriver


def _tx(receipt: Any) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def test_order_answers_its_terms_status_and_every_event(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    first, second = suite.register_item(merchant), suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [first.item_id, second.item_id], amount=2 * 10**15)
    shipped = suite.ship(merchant, order)
    released = suite.confirm_receipt(buyer, order)
    shop.index()

    response = shop.client.get(f"/v1/orders/{order.hex}")

    assert response.status_code == 200
    body = response.json()
    assert (body["buyer"], body["merchant"], body["payer"]) == (
        buyer.address,
        merchant.address,
        buyer.address,
    )
    assert body["amount"] == str(2 * 10**15)
    assert body["item_ids"] == [first.hex, second.hex]
    assert (body["status"], body["released_items"]) == ("released", 0b11)
    assert body["opened"]["tx_hash"] == _tx(order.receipt)
    assert (body["carrier"], body["refunded_items"]) == (1, 0)
    assert [(e["kind"], e["status"], e["tx_hash"]) for e in body["events"]] == [
        ("carrier_assigned", "funded", _tx(shipped)),
        ("shipped", "shipped", _tx(shipped)),
        ("released", "released", _tx(released)),
        ("sale_recorded", "released", _tx(released)),
    ]
    assert body["events"][1]["details"] == {
        "carrier": 1,
        "tracking_hash": body["events"][1]["details"]["tracking_hash"],
    }
    assert body["events"][2]["details"]["items"] == 0b11
    assert body["dispute"] is None


def test_a_recall_refunds_only_its_items_and_the_rest_of_the_order_goes_on(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor
) -> None:
    first, second = suite.register_item(merchant), suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [first.item_id, second.item_id], amount=2 * 10**15)
    suite.ship(merchant, order)
    suite.recall_item(merchant, first.item_id)
    suite.refund_recalled(shopper, order, 0b01)  # anyone may: the payer gets the item's share
    shop.index()

    partly = shop.client.get(f"/v1/orders/{order.hex}").json()
    assert (partly["status"], partly["refunded_items"], partly["released_items"]) == (
        "shipped",
        0b01,
        0,
    )
    refund = partly["events"][-1]
    assert (refund["kind"], refund["actor"]) == ("refunded", shopper.address)
    assert refund["details"] == {"reason": 3, "items": 0b01, "payer_amount": str(10**15)}

    suite.confirm_receipt(buyer, order)
    shop.index()

    done = shop.client.get(f"/v1/orders/{order.hex}").json()
    assert (done["status"], done["refunded_items"], done["released_items"]) == (
        "released",
        0b01,
        0b10,
    )
    record = shop.client.get(f"/v1/merchants/{merchant.address}").json()["seller_record"]
    assert (record["orders_completed"], record["orders_refunded"]) == (1, 0)


def test_the_seller_record_leaves_out_orders_below_the_tokens_floor(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    floor = suite.floor(ZERO_ADDRESS)
    assert floor > 0  # the deployment's default: 0.001 ETH
    # Said again in the test's blocks, so that this test's index (it starts here) knows it.
    suite.set_floor(ZERO_ADDRESS, floor)
    dust_item, real_item = suite.register_item(merchant), suite.register_item(merchant)
    dust = suite.open_order(buyer, merchant, [dust_item.item_id], amount=floor - 1)
    suite.ship(merchant, dust)
    suite.confirm_receipt(buyer, dust)  # the merchant paying itself dust: completed, not counted
    suite.open_order(buyer, merchant, [real_item.item_id], amount=floor)
    shop.index()

    expected = {
        "orders_total": 1,
        "orders_completed": 0,
        "orders_refunded": 0,
        "disputes_total": 0,
        "disputes_lost": 0,
    }
    assert shop.client.get(f"/v1/merchants/{merchant.address}").json()["seller_record"] == expected
    for params in ({}, {"fresh": "true"}):
        verdict = shop.client.get(f"/v1/items/{real_item.hex}", params=params).json()
        assert verdict["merchant"]["seller_record"] == expected, params

    suite.set_floor(ZERO_ADDRESS, floor + 1)  # a raised floor applies to past orders too
    try:
        shop.index()
        for params in ({}, {"fresh": "true"}):
            verdict = shop.client.get(f"/v1/items/{real_item.hex}", params=params).json()
            assert verdict["merchant"]["seller_record"]["orders_total"] == 0, params
    finally:
        suite.set_floor(ZERO_ADDRESS, floor)


def test_disputes_can_be_listed_open_or_closed_with_their_outcome(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    pending = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    ruled = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    for order in (pending, ruled):
        suite.ship(merchant, order)
        suite.dispute(buyer, order)
    suite.resolve(ruled, buyer_bps=10_000)
    shop.index()

    def listed(**params: Any) -> list[tuple[str, bool, str | None]]:
        response = shop.client.get("/v1/disputes", params={"merchant": merchant.address, **params})
        assert response.status_code == 200
        return [(d["order_id"], d["open"], d["outcome"]) for d in response.json()["disputes"]]

    assert listed(open="true") == [(pending.hex, True, None)]
    assert listed(open="false") == [(ruled.hex, False, "merchant_lost")]
    assert listed() == [(ruled.hex, False, "merchant_lost"), (pending.hex, True, None)]
    order = shop.client.get(f"/v1/orders/{pending.hex}").json()
    assert order["status"] == "disputed"
    assert order["dispute"]["opened_by"] == buyer.address
    everyone = shop.client.get("/v1/disputes", params={"open": "true", "limit": 500}).json()
    assert pending.hex in [d["order_id"] for d in everyone["disputes"]]


def test_merchant_answers_record_status_history_items_and_seller_record(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    items = [suite.register_item(merchant) for _ in range(3)]
    suite.register_batch(merchant, count=2)
    sold = suite.open_order(buyer, merchant, [items[0].item_id])
    suite.ship(merchant, sold)
    suite.confirm_receipt(buyer, sold)
    lost = suite.open_order(buyer, merchant, [items[1].item_id])
    suite.ship(merchant, lost)
    suite.dispute(buyer, lost)
    suite.resolve(lost, buyer_bps=7_500)
    suite.suspend(merchant)
    shop.index()

    response = shop.client.get(f"/v1/merchants/{merchant.address.lower()}")

    assert response.status_code == 200
    body = response.json()
    assert (body["address"], body["name"], body["status"]) == (
        merchant.address,
        "Test Goods Ltd",
        "suspended",
    )
    assert [change["status"] for change in body["status_history"]] == ["suspended"]
    assert (body["items_registered"], body["batches_registered"]) == (3, 1)
    assert body["seller_record"] == {
        "orders_total": 2,
        "orders_completed": 1,
        "orders_refunded": 0,
        "disputes_total": 1,
        "disputes_lost": 1,
    }


def test_unknown_merchant_and_order_answer_404_with_their_codes(shop: Shop) -> None:
    shop.index()
    merchant = shop.client.get("/v1/merchants/0x000000000000000000000000000000000000dEaD")
    order = shop.client.get(f"/v1/orders/0x{'42' * 32}")

    assert (merchant.status_code, merchant.json()["error"]["code"]) == (404, "merchant_unknown")
    assert (order.status_code, order.json()["error"]["code"]) == (404, "order_unknown")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/merchants/0x1234", "invalid_address"),
        ("/v1/merchants/0x3C44CdDdB6a900fa2b585dd299e03d12FA4293Bc", "invalid_address"),  # checksum
        ("/v1/orders/0xabc", "invalid_order_id"),
        ("/v1/disputes?merchant=nobody", "invalid_address"),
        ("/v1/disputes?limit=0", "validation_failed"),
    ],
)
def test_malformed_ids_answer_422_with_their_codes(shop: Shop, path: str, code: str) -> None:
    response = shop.client.get(path)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
