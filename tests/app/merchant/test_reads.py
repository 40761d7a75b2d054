"""A signed-in merchant reads its own items, batches, orders and reports from the index, and
nothing of another merchant's."""

from __future__ import annotations

from typing import Any

from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.support import sign_in


def test_a_merchant_reads_its_own_items_batches_orders_and_reports(
    shop: Shop, merchant: Actor, buyer: Actor, shopper: Actor, suite: SuiteDriver
) -> None:
    item = suite.register_item(merchant)
    batch = suite.register_batch(merchant, count=2)
    order = suite.open_order(buyer, merchant, [item.item_id])
    report_id = suite.file_report(shopper, item.item_id)
    suite.confirm_report(report_id)
    rival = suite.new_merchant("Rival Goods")
    suite.register_item(rival)
    shop.index()
    headers = sign_in(shop.client, merchant)

    def read(path: str) -> dict[str, Any]:
        answer = shop.client.get(f"/v1/merchant/{path}", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    me = read("me")
    assert (me["address"], me["items_registered"], me["batches_registered"]) == (
        merchant.address,
        1,
        1,
    )
    (listed,) = read("items")["items"]
    assert listed["item_id"] == item.hex
    assert listed["verify_url"] == f"http://127.0.0.1:8000/verify/{item.hex}"
    (listed_batch,) = read("batches")["batches"]
    assert (listed_batch["root"], listed_batch["item_count"]) == (batch.hex, 2)
    (listed_order,) = read("orders")["orders"]
    assert listed_order == shop.client.get(f"/v1/orders/{order.hex}").json()
    (listed_report,) = read("reports")["reports"]
    assert (listed_report["report_id"], listed_report["outcome"]) == (report_id, "confirmed")


def test_a_merchant_the_index_has_not_seen_gets_a_404_for_its_record(
    shop: Shop, merchant: Actor
) -> None:
    headers = sign_in(shop.client, merchant)  # approved, but not indexed yet
    answer = shop.client.get("/v1/merchant/me", headers=headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "merchant_not_indexed"
    assert shop.client.get("/v1/merchant/items", headers=headers).json()["items"] == []
