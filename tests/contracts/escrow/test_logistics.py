"""The logistics oracle's reports: each names the order's carrier; a report the rules refuse is
skipped with LogisticsUpdateRejected (its custom error) and the rest of the batch stands."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import (
    CARRIER,
    OTHER_CARRIER,
    LogisticsKind,
    OrderStatus,
    encode_error,
    h,
    update,
)

WRONG_CARRIER = "EscrowWrongCarrier(bytes32,uint16,uint16)"
INVALID_STATUS = "EscrowInvalidStatus(bytes32,uint8)"
INVALID_ITEMS = "EscrowInvalidItems(bytes32,uint32)"


def rejected(escrow: Any, order_id: bytes, kind: LogisticsKind, carrier: int, reason: bytes) -> Any:
    return escrow.LogisticsUpdateRejected(
        orderId=order_id, kind=int(kind), carrier=carrier, reason=reason
    )


def test_carrier_reports_pickup_and_delivery_of_orders_by_id(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, ship: Any
) -> None:
    first, second = open_order(), open_order()
    for order in (first, second):
        escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    picked = escrow.reportLogistics(
        [
            update(first.id, LogisticsKind.SHIPPED, evidence="pickup 1"),
            update(second.id, LogisticsKind.SHIPPED),
        ],
        sender=oracle,
    )
    tx = escrow.reportLogistics(
        [update(first.id, LogisticsKind.DELIVERED, evidence="pod 1")], sender=oracle
    )

    assert picked.events[0] == escrow.OrderShipped(
        orderId=first.id, by=oracle.address, carrier=CARRIER, trackingHash=h("pickup 1")
    )
    assert tx.events == [
        escrow.OrderDelivered(orderId=first.id, by=oracle.address, items=1, proofHash=h("pod 1"))
    ]
    state = escrow.orderOf(first.id)
    assert state.status == OrderStatus.DELIVERED
    assert state.deliveredItems == 1
    assert state.deliveredAt == tx.timestamp
    assert escrow.orderOf(second.id).status == OrderStatus.SHIPPED


def test_report_by_another_carrier_is_rejected_with_its_reason(
    escrow: Any, open_order: Any, oracle: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)

    tx = escrow.reportLogistics(
        [update(order.id, LogisticsKind.DELIVERED, carrier=OTHER_CARRIER)], sender=oracle
    )

    reason = encode_error(WRONG_CARRIER, order.id, OTHER_CARRIER, CARRIER)
    assert tx.events == [rejected(escrow, order.id, LogisticsKind.DELIVERED, OTHER_CARRIER, reason)]
    state = escrow.orderOf(order.id)
    assert (state.status, state.deliveredItems) == (OrderStatus.SHIPPED, 0)


def test_report_on_an_order_with_no_carrier_is_rejected(
    escrow: Any, open_order: Any, oracle: Any
) -> None:
    """A carrier's key reaches only orders handed to that carrier: a false pickup report cannot
    take away the buyer's ship-by refund."""
    order = open_order()

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.SHIPPED)], sender=oracle)

    reason = encode_error(WRONG_CARRIER, order.id, CARRIER, 0)
    assert tx.events == [rejected(escrow, order.id, LogisticsKind.SHIPPED, CARRIER, reason)]
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


def test_delivery_on_a_funded_order_with_the_carrier_implies_the_pickup(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any
) -> None:
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    tx = escrow.reportLogistics(
        [update(order.id, LogisticsKind.DELIVERED, evidence="pod")], sender=oracle
    )

    assert tx.events == [
        escrow.OrderShipped(
            orderId=order.id, by=oracle.address, carrier=CARRIER, trackingHash=b"\x00" * 32
        ),
        escrow.OrderDelivered(orderId=order.id, by=oracle.address, items=1, proofHash=h("pod")),
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_pickup_report_after_ship_by_stands_when_the_carrier_was_named_in_time(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, chain: Any
) -> None:
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)
    chain.pending_timestamp = order.terms.ship_by + 1

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.SHIPPED)], sender=oracle)

    assert tx.events.filter(escrow.LogisticsUpdateRejected) == []
    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED


def test_carrier_delivers_items_of_an_order_in_parts(
    escrow: Any, open_order: Any, oracle: Any, register_item: Any, ship: Any
) -> None:
    order = open_order(item_ids=tuple(register_item() for _ in range(3)))
    ship(order)

    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0b101)], sender=oracle)
    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED
    assert escrow.orderOf(order.id).deliveredItems == 0b101

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    assert tx.events[0].items == 0b010
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_delivery_of_items_already_delivered_or_missing_is_rejected(
    escrow: Any, open_order: Any, oracle: Any, register_item: Any, ship: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    ship(order)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0b01)], sender=oracle)

    tx = escrow.reportLogistics(
        [
            update(order.id, LogisticsKind.DELIVERED, 0b01),
            update(order.id, LogisticsKind.DELIVERED, 0b100),
        ],
        sender=oracle,
    )

    assert tx.events == [
        rejected(
            escrow,
            order.id,
            LogisticsKind.DELIVERED,
            CARRIER,
            encode_error(INVALID_ITEMS, order.id, items),
        )
        for items in (0b01, 0b100)
    ]
    assert escrow.orderOf(order.id).deliveredItems == 0b01


def test_a_stale_report_in_a_batch_of_three_leaves_the_other_two_applied(
    escrow: Any, open_order: Any, buyer: Any, oracle: Any, ship: Any
) -> None:
    """The buyer's ordinary confirm between the relayer's simulation and mining must not fail
    the carrier's other reports."""
    first, stale, third = open_order(), open_order(), open_order()
    for order in (first, stale, third):
        ship(order)
    escrow.confirmReceipt(stale.abi, sender=buyer)

    tx = escrow.reportLogistics(
        [update(o.id, LogisticsKind.DELIVERED) for o in (first, stale, third)], sender=oracle
    )

    reason = encode_error(INVALID_STATUS, stale.id, OrderStatus.RELEASED)
    assert tx.events.filter(escrow.LogisticsUpdateRejected) == [
        rejected(escrow, stale.id, LogisticsKind.DELIVERED, CARRIER, reason)
    ]
    assert [e.orderId for e in tx.events.filter(escrow.OrderDelivered)] == [first.id, third.id]
    assert escrow.orderOf(first.id).status == OrderStatus.DELIVERED
    assert escrow.orderOf(third.id).status == OrderStatus.DELIVERED
    assert escrow.orderOf(stale.id).status == OrderStatus.RELEASED


def test_report_on_an_unknown_order_is_rejected_and_the_rest_stands(
    escrow: Any, open_order: Any, oracle: Any, make_terms: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)
    missing = make_terms().order_id

    tx = escrow.reportLogistics(
        [update(missing, LogisticsKind.DELIVERED), update(order.id, LogisticsKind.DELIVERED)],
        sender=oracle,
    )

    reason = encode_error("EscrowOrderNotFound(bytes32)", missing)
    assert tx.events.filter(escrow.LogisticsUpdateRejected) == [
        rejected(escrow, missing, LogisticsKind.DELIVERED, CARRIER, reason)
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_second_pickup_report_is_rejected(
    escrow: Any, open_order: Any, oracle: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.SHIPPED)], sender=oracle)

    reason = encode_error(INVALID_STATUS, order.id, OrderStatus.SHIPPED)
    assert tx.events == [rejected(escrow, order.id, LogisticsKind.SHIPPED, CARRIER, reason)]


def test_logistics_batch_reverts_when_empty(escrow: Any, oracle: Any) -> None:
    with ape.reverts(escrow.EscrowEmptyBatch):
        escrow.reportLogistics([], sender=oracle)


def test_paused_escrow_refuses_logistics_reports(
    escrow: Any, open_order: Any, admin: Any, oracle: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)
    escrow.pause(sender=admin)

    with ape.reverts(escrow.EnforcedPause):
        escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    escrow.unpause(sender=admin)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


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
    escrow: Any, open_order: Any, oracle: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)

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


def test_condition_breach_before_shipment_or_by_another_carrier_is_rejected(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, ship: Any
) -> None:
    funded, shipped = open_order(), open_order()
    escrow.assignCarrier(funded.abi, CARRIER, sender=merchant)
    ship(shipped)
    breach = LogisticsKind.CONDITION_BREACHED

    tx = escrow.reportLogistics(
        [update(funded.id, breach), update(shipped.id, breach, carrier=OTHER_CARRIER)],
        sender=oracle,
    )

    assert tx.events == [
        rejected(
            escrow,
            funded.id,
            breach,
            CARRIER,
            encode_error(INVALID_STATUS, funded.id, OrderStatus.FUNDED),
        ),
        rejected(
            escrow,
            shipped.id,
            breach,
            OTHER_CARRIER,
            encode_error(WRONG_CARRIER, shipped.id, OTHER_CARRIER, CARRIER),
        ),
    ]
    assert escrow.orderOf(funded.id).status == OrderStatus.FUNDED
    assert escrow.orderOf(shipped.id).status == OrderStatus.SHIPPED


def test_condition_breach_after_delivery_is_rejected(
    escrow: Any, delivered_order: Any, oracle: Any, travel: Any
) -> None:
    """A carrier reports what broke while it held the goods; after delivery only the buyer
    disputes, within its window (which the id-only report cannot check)."""
    travel(delivered_order.terms.dispute_window)
    breach = LogisticsKind.CONDITION_BREACHED

    tx = escrow.reportLogistics([update(delivered_order.id, breach)], sender=oracle)

    reason = encode_error(INVALID_STATUS, delivered_order.id, OrderStatus.DELIVERED)
    assert tx.events == [rejected(escrow, delivered_order.id, breach, CARRIER, reason)]
    assert escrow.orderOf(delivered_order.id).status == OrderStatus.DELIVERED


def test_delivery_of_everything_when_nothing_is_left_to_deliver_is_rejected(
    escrow: Any, open_order: Any, oracle: Any, register_item: Any, ship: Any, buyer: Any
) -> None:
    """A report of every item (items 0) means the open items not yet delivered: with one delivered
    and the other released, a second report is stale; the released item is not marked delivered."""
    order = open_order(item_ids=(register_item(), register_item()))
    ship(order)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0b01)], sender=oracle)
    escrow.releaseItems(order.abi, 0b10, sender=buyer)

    tx = escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items=0)], sender=oracle)

    assert tx.events == [
        rejected(
            escrow,
            order.id,
            LogisticsKind.DELIVERED,
            CARRIER,
            encode_error(INVALID_ITEMS, order.id, 0),
        )
    ]
    assert escrow.orderOf(order.id).deliveredItems == 0b01
