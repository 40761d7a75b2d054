"""Release to the merchant: the buyer's confirmation, the window running out, item by item."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import (
    CARRIER,
    LogisticsKind,
    OrderStatus,
    fee_of,
    h,
    share_of,
    update,
)


def _ship_and_deliver(escrow: Any, order: Any, merchant: Any, oracle: Any, items: int = 0) -> Any:
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    return escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items)], sender=oracle)


def test_buyer_confirming_receipt_releases_at_once_less_the_fee(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, fee_recipient: Any, asset: Any
) -> None:
    order = open_order()
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    fee = fee_of(order.terms.amount, order.terms.fee_bps)
    assert fee > 0
    assert tx.events == [
        escrow.OrderReleased(
            orderId=order.id,
            by=buyer.address,
            items=1,
            merchantAmount=order.terms.amount - fee,
            feeAmount=fee,
        )
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED
    assert escrow.creditOf(merchant, asset.token) == order.terms.amount - fee
    assert escrow.creditOf(fee_recipient, asset.token) == fee
    assert escrow.escrowedOf(order.abi) == 0


def test_buyer_may_confirm_receipt_before_shipment(
    escrow: Any, open_order: Any, buyer: Any
) -> None:
    order = open_order()
    escrow.confirmReceipt(order.abi, sender=buyer)
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_confirm_receipt_reverts_for_anyone_but_the_buyer(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowNotBuyer, orderId=order.id, caller=merchant.address):
        escrow.confirmReceipt(order.abi, sender=merchant)


def test_confirm_receipt_reverts_once_released(escrow: Any, open_order: Any, buyer: Any) -> None:
    order = open_order()
    escrow.confirmReceipt(order.abi, sender=buyer)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.RELEASED):
        escrow.confirmReceipt(order.abi, sender=buyer)


def test_anyone_releases_after_delivery_and_dispute_window(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, shopper: Any, travel: Any
) -> None:
    order = open_order()
    _ship_and_deliver(escrow, order, merchant, oracle)
    travel(order.terms.dispute_window)

    tx = escrow.release(order.abi, sender=shopper)

    assert tx.events[0].by == shopper.address
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_release_reverts_before_dispute_window_ends(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, shopper: Any, travel: Any
) -> None:
    order = open_order()
    delivered = _ship_and_deliver(escrow, order, merchant, oracle)
    releasable_at = delivered.timestamp + order.terms.dispute_window
    travel(order.terms.dispute_window - 2)

    with ape.reverts(escrow.EscrowReleaseTooEarly, orderId=order.id, releasableAt=releasable_at):
        escrow.release(order.abi, sender=shopper)


def test_release_reverts_before_shipment(escrow: Any, open_order: Any, shopper: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.FUNDED):
        escrow.release(order.abi, sender=shopper)


def test_shipped_order_never_reported_delivered_releases_after_deliver_by_and_window(
    escrow: Any, open_order: Any, merchant: Any, shopper: Any, chain: Any
) -> None:
    order = open_order()
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    releasable_at = order.terms.deliver_by + order.terms.dispute_window

    chain.pending_timestamp = releasable_at - 1
    with ape.reverts(escrow.EscrowReleaseTooEarly, orderId=order.id, releasableAt=releasable_at):
        escrow.release(order.abi, sender=shopper)
    chain.pending_timestamp = releasable_at
    escrow.release(order.abi, sender=shopper)

    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_release_reverts_while_disputed(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, buyer: Any, shopper: Any, travel: Any
) -> None:
    order = open_order()
    _ship_and_deliver(escrow, order, merchant, oracle)
    escrow.dispute(order.abi, h("broken"), sender=buyer)
    travel(order.terms.dispute_window)

    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.DISPUTED):
        escrow.release(order.abi, sender=shopper)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.DISPUTED):
        escrow.confirmReceipt(order.abi, sender=buyer)


def test_items_release_one_by_one_and_the_last_takes_the_remainder(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, register_item: Any, asset: Any
) -> None:
    amount = asset.amount + 2  # not divisible by 3: the last item takes the rounding
    order = open_order(amount=amount, item_ids=tuple(register_item() for _ in range(3)))
    share = amount // 3

    first = escrow.releaseItems(order.abi, 0b010, sender=buyer)
    assert escrow.escrowedOf(order.abi) == amount - share
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED
    second = escrow.releaseItems(order.abi, 0b101, sender=buyer)

    released = [e for tx in (first, second) for e in tx.events.filter(escrow.OrderReleased)]
    grosses = [e.merchantAmount + e.feeAmount for e in released]
    assert grosses == [share, amount - share]
    assert grosses == [share_of(amount, 3, 0b010), share_of(amount, 3, 0b101)]
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED
    assert escrow.orderOf(order.id).releasedItems == 0b111
    assert escrow.creditOf(merchant, asset.token) == sum(e.merchantAmount for e in released)


def test_each_item_pays_its_own_share_whatever_the_order_of_releases(
    escrow: Any, open_order: Any, buyer: Any, register_item: Any, asset: Any
) -> None:
    """The last listed item carries the rounding even when it is released first."""
    amount = asset.amount + 2
    order = open_order(amount=amount, item_ids=tuple(register_item() for _ in range(3)))
    share = amount // 3

    grosses = []
    for items in (0b100, 0b001, 0b010):
        tx = escrow.releaseItems(order.abi, items, sender=buyer)
        [event] = tx.events.filter(escrow.OrderReleased)
        grosses.append(event.merchantAmount + event.feeAmount)

    assert grosses == [amount - 2 * share, share, share]
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_delivered_items_release_without_the_buyer_after_the_window(
    escrow: Any, open_order: Any, merchant: Any, oracle: Any, register_item: Any, travel: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    delivered = _ship_and_deliver(escrow, order, merchant, oracle, items=0b01)

    with ape.reverts(escrow.EscrowItemsNotDelivered, orderId=order.id, items=0b10):
        escrow.releaseItems(order.abi, 0b10, sender=merchant)
    releasable_at = delivered.timestamp + order.terms.dispute_window
    with ape.reverts(escrow.EscrowReleaseTooEarly, orderId=order.id, releasableAt=releasable_at):
        escrow.releaseItems(order.abi, 0b01, sender=merchant)
    travel(order.terms.dispute_window)
    escrow.releaseItems(order.abi, 0b01, sender=merchant)

    state = escrow.orderOf(order.id)
    assert (state.status, state.releasedItems) == (OrderStatus.SHIPPED, 0b01)
    assert escrow.escrowedOf(order.abi) == order.terms.amount - order.terms.amount // 2


def test_release_items_reverts_for_empty_foreign_or_released_items(
    escrow: Any, open_order: Any, buyer: Any, register_item: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    escrow.releaseItems(order.abi, 0b01, sender=buyer)

    for items in (0, 0b100, 0b01):
        with ape.reverts(escrow.EscrowInvalidItems, orderId=order.id, items=items):
            escrow.releaseItems(order.abi, items, sender=buyer)


def test_delivery_completes_when_remaining_items_arrive_after_some_were_confirmed(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, oracle: Any, register_item: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    escrow.releaseItems(order.abi, 0b01, sender=buyer)
    _ship_and_deliver(escrow, order, merchant, oracle, items=0b10)

    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_full_release_after_window_pays_the_remainder_of_a_partly_released_order(
    escrow: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    shopper: Any,
    register_item: Any,
    travel: Any,
) -> None:
    order = open_order(item_ids=tuple(register_item() for _ in range(3)))
    escrow.releaseItems(order.abi, 0b001, sender=buyer)
    _ship_and_deliver(escrow, order, merchant, oracle)
    travel(order.terms.dispute_window)

    tx = escrow.release(order.abi, sender=shopper)

    [event] = tx.events.filter(escrow.OrderReleased)
    assert event.items == 0b110
    assert event.merchantAmount + event.feeAmount == order.terms.amount - order.terms.amount // 3
    assert escrow.escrowedOf(order.abi) == 0


def test_fee_is_the_one_snapshotted_at_opening(
    escrow: Any, open_order: Any, buyer: Any, admin: Any, fee_recipient: Any, asset: Any
) -> None:
    order = open_order()
    escrow.setFee(1_000, sender=admin)

    escrow.confirmReceipt(order.abi, sender=buyer)

    assert escrow.creditOf(fee_recipient, asset.token) == fee_of(
        order.terms.amount, order.terms.fee_bps
    )
    assert order.terms.fee_bps != 1_000
