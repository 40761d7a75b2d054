"""Shipment and delivery: the merchant's call and the logistics oracle's batch."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import DAY, LogisticsKind, OrderStatus, h, update


def test_merchant_marks_order_shipped(escrow: Any, open_order: Any, merchant: Any) -> None:
    order = open_order()

    tx = escrow.ship(order.abi, h("tracking 1Z999"), sender=merchant)

    assert tx.events == [
        escrow.OrderShipped(orderId=order.id, by=merchant.address, trackingHash=h("tracking 1Z999"))
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED


def test_ship_reverts_for_anyone_but_the_merchant(escrow: Any, open_order: Any, buyer: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowNotMerchant, orderId=order.id, caller=buyer.address):
        escrow.ship(order.abi, h("track"), sender=buyer)


def test_ship_reverts_after_ship_by(
    escrow: Any, open_order: Any, merchant: Any, travel: Any
) -> None:
    order = open_order()
    travel(3 * DAY + 1)
    with ape.reverts(escrow.EscrowShipByPassed, orderId=order.id, shipBy=order.terms.ship_by):
        escrow.ship(order.abi, h("track"), sender=merchant)


def test_ship_reverts_when_already_shipped(escrow: Any, open_order: Any, merchant: Any) -> None:
    order = open_order()
    escrow.ship(order.abi, h("track"), sender=merchant)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        escrow.ship(order.abi, h("track"), sender=merchant)


def test_ship_reverts_for_unknown_terms(escrow: Any, make_terms: Any, merchant: Any) -> None:
    terms = make_terms()
    with ape.reverts(escrow.EscrowOrderNotFound, orderId=terms.order_id):
        escrow.ship(terms.as_abi(), h("track"), sender=merchant)


def test_oracle_ships_and_delivers_orders_by_id(escrow: Any, open_order: Any, oracle: Any) -> None:
    first, second = open_order(), open_order()

    escrow.reportLogistics(
        [update(first.id, LogisticsKind.SHIPPED), update(second.id, LogisticsKind.SHIPPED)],
        sender=oracle,
    )
    tx = escrow.reportLogistics(
        [update(first.id, LogisticsKind.DELIVERED, evidence="pod 1")], sender=oracle
    )

    assert tx.events == [
        escrow.OrderDelivered(orderId=first.id, by=oracle.address, items=1, proofHash=h("pod 1"))
    ]
    state = escrow.orderOf(first.id)
    assert state.status == OrderStatus.DELIVERED
    assert state.deliveredItems == 1
    assert state.deliveredAt == tx.timestamp
    assert escrow.orderOf(second.id).status == OrderStatus.SHIPPED


def test_oracle_delivers_items_of_an_order_in_parts(
    escrow: Any, open_order: Any, oracle: Any, merchant: Any, register_item: Any
) -> None:
    order = open_order(item_ids=tuple(register_item() for _ in range(3)))
    escrow.ship(order.abi, h("track"), sender=merchant)

    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0b101)], sender=oracle)
    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED
    assert escrow.orderOf(order.id).deliveredItems == 0b101

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    assert tx.events[0].items == 0b010
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_delivery_reverts_for_items_already_delivered_or_missing(
    escrow: Any, open_order: Any, oracle: Any, merchant: Any, register_item: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    escrow.ship(order.abi, h("track"), sender=merchant)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0b01)], sender=oracle)

    with ape.reverts(escrow.EscrowInvalidItems, orderId=order.id, items=0b01):
        escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, 0b01)], sender=oracle)
    with ape.reverts(escrow.EscrowInvalidItems, orderId=order.id, items=0b100):
        escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, 0b100)], sender=oracle)


def test_delivery_reverts_before_shipment(escrow: Any, open_order: Any, oracle: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.FUNDED):
        escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)


def test_oracle_shipment_reverts_after_ship_by(
    escrow: Any, open_order: Any, oracle: Any, travel: Any
) -> None:
    order = open_order()
    travel(3 * DAY + 1)
    with ape.reverts(escrow.EscrowShipByPassed, orderId=order.id, shipBy=order.terms.ship_by):
        escrow.reportLogistics([update(order.id, LogisticsKind.SHIPPED)], sender=oracle)


def test_logistics_batch_is_all_or_none(
    escrow: Any, open_order: Any, oracle: Any, make_terms: Any
) -> None:
    order = open_order()
    missing = make_terms().order_id
    with ape.reverts(escrow.EscrowOrderNotFound, orderId=missing):
        escrow.reportLogistics(
            [update(order.id, LogisticsKind.SHIPPED), update(missing, LogisticsKind.SHIPPED)],
            sender=oracle,
        )
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


def test_logistics_batch_reverts_when_empty(escrow: Any, oracle: Any) -> None:
    with ape.reverts(escrow.EscrowEmptyBatch):
        escrow.reportLogistics([], sender=oracle)


def test_logistics_reports_revert_without_oracle_role(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()
    with ape.reverts(
        escrow.AccessControlUnauthorizedAccount,
        account=merchant.address,
        neededRole=escrow.ORACLE_ROLE(),
    ):
        escrow.reportLogistics([update(order.id, LogisticsKind.SHIPPED)], sender=merchant)


def test_condition_breach_report_opens_a_dispute(
    escrow: Any, open_order: Any, oracle: Any, merchant: Any
) -> None:
    order = open_order()
    escrow.ship(order.abi, h("track"), sender=merchant)

    tx = escrow.reportLogistics(
        [update(order.id, LogisticsKind.CONDITION_BREACHED, evidence="cold chain 9C")],
        sender=oracle,
    )

    deadline = tx.timestamp + int(escrow.arbitrationPeriod())
    assert tx.events == [
        escrow.DisputeOpened(
            orderId=order.id, by=oracle.address, evidenceHash=h("cold chain 9C"), deadline=deadline
        )
    ]
    state = escrow.orderOf(order.id)
    assert (state.status, state.disputeDeadline) == (OrderStatus.DISPUTED, deadline)


def test_condition_breach_reverts_before_shipment(
    escrow: Any, open_order: Any, oracle: Any
) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.FUNDED):
        escrow.reportLogistics([update(order.id, LogisticsKind.CONDITION_BREACHED)], sender=oracle)
