"""Seller records kept by the indexer (``app.index.seller_records``): always what counting every
order afresh gives, whether the orders arrive over one range or several, a floor is raised, or the
index was built before the records were kept. Reorgs: tests/app/index/test_reorg.py."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.index.seller_records import DerivedVersion, SellerRecordRow
from tests.app.index.actors import ZERO_ADDRESS, Actor, Shop, SuiteDriver
from tests.app.index.records import recounted_seller_records, stored_seller_records

pytestmark = pytest.mark.both_databases


def _session(shop: Shop) -> Session:
    session: Session = shop.app.state.services.database.sessions()
    return session


def _records(shop: Shop) -> dict[str, tuple[int, int, int, int, int]]:
    """The stored records, after checking they are what a recount gives."""
    with _session(shop) as session:
        stored = stored_seller_records(session)
        assert stored == recounted_seller_records(session)
    return stored


def _answered(shop: Shop, merchant: Actor, item_hex: str) -> tuple[int, ...]:
    """The record as the merchant read and the item verdict answer it (they must agree)."""
    by_merchant = shop.client.get(f"/v1/merchants/{merchant.address}").json()["seller_record"]
    by_item = shop.client.get(f"/v1/items/{item_hex}").json()["merchant"]["seller_record"]
    assert by_item == by_merchant
    return tuple(
        by_item[key]
        for key in (
            "orders_total",
            "orders_completed",
            "orders_refunded",
            "disputes_total",
            "disputes_lost",
        )
    )


def test_seller_records_follow_orders_over_ranges_and_a_raised_floor(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    floor = suite.floor(ZERO_ADDRESS)
    suite.set_floor(ZERO_ADDRESS, floor)  # said again in this test's blocks, for its index
    items = [suite.register_item(merchant) for _ in range(4)]
    completed = suite.open_order(buyer, merchant, [items[0].item_id], amount=floor)
    suite.ship(merchant, completed)
    suite.confirm_receipt(buyer, completed)
    shop.index()
    assert _records(shop) == {merchant.address: (1, 1, 0, 0, 0)}

    dust = suite.open_order(buyer, merchant, [items[1].item_id], amount=floor - 1)
    suite.ship(merchant, dust)
    suite.dispute(buyer, dust)
    suite.resolve(dust, buyer_bps=10_000)  # lost, but dust: left out
    lost = suite.open_order(buyer, merchant, [items[2].item_id], amount=floor)
    suite.ship(merchant, lost)
    suite.dispute(buyer, lost)
    shop.index()
    assert _records(shop) == {merchant.address: (2, 1, 0, 1, 0)}
    suite.resolve(lost, buyer_bps=10_000)
    suite.open_order(buyer, merchant, [items[3].item_id], amount=floor + 1)
    shop.index()
    record = _records(shop)[merchant.address]
    assert (record[0], record[1], record[3], record[4]) == (3, 1, 1, 1)
    assert _answered(shop, merchant, items[0].hex) == record

    suite.set_floor(ZERO_ADDRESS, floor + 1)  # applies to past orders: only the last one counts
    try:
        shop.index()
        assert _records(shop) == {merchant.address: (1, 0, 0, 0, 0)}
        assert _answered(shop, merchant, items[3].hex) == (1, 0, 0, 0, 0)
    finally:
        suite.set_floor(ZERO_ADDRESS, floor)
    shop.index()
    assert _records(shop)[merchant.address] == record


def test_an_index_built_without_seller_records_counts_them_when_the_service_restarts(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id], amount=suite.floor(ZERO_ADDRESS))
    suite.ship(merchant, order)
    suite.confirm_receipt(buyer, order)
    shop.index()
    database = shop.app.state.services.database
    with database.transaction() as session:  # as an index from before the records looks
        session.execute(delete(SellerRecordRow))
        session.execute(delete(DerivedVersion))
    with _session(shop) as session:
        assert stored_seller_records(session) == {} != recounted_seller_records(session)

    shop.restart_indexer()
    shop.index()

    assert _records(shop) == {merchant.address: (1, 1, 0, 0, 0)}
    assert _answered(shop, merchant, item.hex) == (1, 1, 0, 0, 0)
