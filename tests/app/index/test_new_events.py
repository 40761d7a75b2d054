"""The events the new contracts added, into the index: a carrier's refused report (and one on an
order nobody opened), settlement offers that expire and are withdrawn, the items an order holds
and frees, seller-record floors, GS1 prefixes granted and revoked, and verifiers' reassignments."""

from __future__ import annotations

import json
import secrets

from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.vocab import LogisticsKind, OrderStatus
from app.index.models import (
    Gs1PrefixRow,
    ItemHoldRow,
    ItemReassignRow,
    OrderEventRow,
    SellerRecordFloorRow,
)
from tests.app.index.actors import DAY, Actor, Order, Shop, SuiteDriver
from tests.app.index.records import random_gtin


def _session(shop: Shop) -> Session:
    session: Session = shop.app.state.services.database.sessions()
    return session


def _events(shop: Shop, order: Order) -> list[OrderEventRow]:
    with _session(shop) as session:
        return list(
            session.scalars(
                select(OrderEventRow)
                .where(OrderEventRow.order_id == order.hex)
                .order_by(OrderEventRow.block_number, OrderEventRow.log_index)
            )
        )


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def test_a_report_naming_another_carrier_is_indexed_as_rejected_and_the_assigned_one_counts(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.assign_carrier(merchant, order, carrier=1)
    suite.report(order, LogisticsKind.DELIVERED, carrier=2)
    suite.report(order, LogisticsKind.DELIVERED, carrier=1)  # implies the pickup
    stranger = Order(secrets.token_bytes(32), order.terms, order.receipt)
    suite.report(stranger, LogisticsKind.SHIPPED)  # refused on chain, unknown to the index

    shop.index()

    events = _events(shop, order)
    assert [(e.kind, e.status, e.carrier) for e in events] == [
        ("carrier_assigned", OrderStatus.FUNDED, 1),
        ("logistics_rejected", OrderStatus.FUNDED, 1),
        ("shipped", OrderStatus.SHIPPED, 1),
        ("delivered", OrderStatus.DELIVERED, 1),
    ]
    rejected = json.loads(events[1].details)
    assert (rejected["kind"], rejected["carrier"]) == (LogisticsKind.DELIVERED, 2)
    assert rejected["reason"].startswith(_selector("EscrowWrongCarrier(bytes32,uint16,uint16)"))
    assert events[3].delivered_items == 1
    with _session(shop) as session:
        assert (
            session.scalars(
                select(OrderEventRow).where(OrderEventRow.order_id == stranger.hex)
            ).all()
            == []
        )


def test_an_offer_carries_its_expiry_and_its_withdrawal_is_indexed(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.ship(merchant, order)
    expires_at = suite.block_time() + DAY
    suite.offer(merchant, order, 4_000, expires_at)
    suite.withdraw_offer(merchant, order)

    shop.index()

    offered, withdrawn = _events(shop, order)[-2:]
    assert (offered.kind, json.loads(offered.details)) == (
        "settlement_offered",
        {"buyer_bps": 4_000, "expires_at": expires_at},
    )
    assert (withdrawn.kind, withdrawn.actor, withdrawn.status) == (
        "settlement_offer_withdrawn",
        merchant.address,
        OrderStatus.SHIPPED,
    )


def test_an_order_holds_its_items_and_a_cancellation_frees_them(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id])
    shop.index()
    assert shop.client.get(f"/v1/items/{item.hex}").json()["held_by_order"] == order.hex
    fresh = shop.client.get(f"/v1/items/{item.hex}", params={"fresh": "true"}).json()
    assert fresh["held_by_order"] == order.hex

    suite.cancel(buyer, order)  # funded, no carrier yet: the buyer may
    shop.index()

    with _session(shop) as session:
        holds = session.scalars(
            select(ItemHoldRow).where(ItemHoldRow.item_id == item.hex).order_by(ItemHoldRow.id)
        ).all()
        assert [(h.order_id, h.held) for h in holds] == [(order.hex, True), (order.hex, False)]
    refunded = _events(shop, order)[-1]
    assert (refunded.kind, refunded.status, refunded.refunded_items) == (
        "refunded",
        OrderStatus.REFUNDED,
        1,
    )
    for params in ({}, {"fresh": "true"}):
        verdict = shop.client.get(f"/v1/items/{item.hex}", params=params).json()
        assert verdict["held_by_order"] is None, params


def test_floors_prefixes_and_reassignments_are_indexed(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    token = suite.w3.to_checksum_address(secrets.token_bytes(20))
    suite.set_floor(token, 5 * 10**18)
    _, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    suite.revoke_prefix(prefix)
    rightful = suite.new_merchant("Rightful Goods")
    item = suite.register_item(merchant)
    suite.reassign(item.item_id, rightful.address)

    shop.index()

    with _session(shop) as session:
        floor = session.scalars(
            select(SellerRecordFloorRow).where(SellerRecordFloorRow.token == token)
        ).one()
        assert floor.amount == str(5 * 10**18)
        grants = session.scalars(
            select(Gs1PrefixRow).where(Gs1PrefixRow.prefix == prefix).order_by(Gs1PrefixRow.id)
        ).all()
        assert [(g.merchant, g.granted) for g in grants] == [
            (merchant.address, True),
            (merchant.address, False),
        ]
        moved = session.scalars(
            select(ItemReassignRow).where(ItemReassignRow.item_id == item.hex)
        ).one()
        assert (moved.from_merchant, moved.to_merchant) == (merchant.address, rightful.address)
