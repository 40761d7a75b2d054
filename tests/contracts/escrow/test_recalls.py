"""Recall refunds: anyone refunds the payer the share of each item the registry reads Recalled or
Flagged and that is still open; the rest of the order goes on."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import (
    BPS,
    LogisticsKind,
    OrderStatus,
    RefundReason,
    h,
    share_of,
    split,
    update,
)
from tests.contracts.registry.helpers import Verdict


@pytest.fixture
def three_items(register_item: Any) -> tuple[bytes, ...]:
    return tuple(register_item() for _ in range(3))


def test_stranger_refunds_the_payer_only_the_recalled_items_share_and_the_order_goes_on(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    shopper: Any,
    three_items: tuple[bytes, ...],
    ship: Any,
    asset: Any,
    travel: Any,
) -> None:
    amount = asset.amount + 2
    order = open_order(amount=amount, item_ids=three_items)
    ship(order)
    registry.recallItem(three_items[1], h("recall notice"), sender=merchant)

    tx = escrow.refundRecalled(order.abi, 0b010, sender=shopper)

    share = share_of(amount, 3, 0b010)
    assert tx.events.filter(escrow.OrderRefunded) == [
        escrow.OrderRefunded(
            orderId=order.id,
            by=shopper.address,
            reason=RefundReason.ITEM_RECALLED,
            items=0b010,
            payerAmount=share,
        )
    ]
    assert tx.events.filter(registry.ItemFreed) == [
        registry.ItemFreed(itemId=three_items[1], orderId=order.id)
    ]
    assert escrow.creditOf(buyer, asset.token) == share
    assert escrow.creditOf(shopper, asset.token) == 0
    assert escrow.payerCreditOf(order.abi) == share
    state = escrow.orderOf(order.id)
    assert (state.status, state.refundedItems) == (OrderStatus.SHIPPED, 0b010)
    assert escrow.escrowedOf(order.abi) == amount - share

    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED
    travel(order.terms.dispute_window)
    released = escrow.release(order.abi, sender=shopper)

    [event] = released.events.filter(escrow.OrderReleased)
    assert event.items == 0b101
    assert event.merchantAmount + event.feeAmount == amount - share
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED
    assert escrow.payerCreditOf(order.abi) == share


def test_recall_after_delivery_refunds_that_items_share_not_the_price(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    three_items: tuple[bytes, ...],
    ship: Any,
    asset: Any,
) -> None:
    """Attack 1 of the threat model (SECURITY.md): a recalled item never refunds more than its
    own share."""
    order = open_order(item_ids=three_items)
    ship(order)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    registry.recallItem(three_items[0], h("recall"), sender=merchant)

    escrow.refundRecalled(order.abi, 0b001, sender=buyer)

    assert escrow.creditOf(buyer, asset.token) == asset.amount // 3
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED
    with ape.reverts(escrow.EscrowItemNotRecalled, orderId=order.id, itemId=three_items[1]):
        escrow.refundRecalled(order.abi, 0b010, sender=buyer)


def test_the_last_item_refunds_the_rounding(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    three_items: tuple[bytes, ...],
    asset: Any,
) -> None:
    amount = asset.amount + 2
    order = open_order(amount=amount, item_ids=three_items)
    registry.recallItem(three_items[2], h("recall"), sender=merchant)

    tx = escrow.refundRecalled(order.abi, 0b100, sender=buyer)

    assert tx.events[0].payerAmount == amount - 2 * (amount // 3)


def test_flagged_items_are_refunded_too_and_several_at_once(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    shopper: Any,
    three_items: tuple[bytes, ...],
    confirmed_flag: Any,
    asset: Any,
) -> None:
    order = open_order(item_ids=three_items)
    confirmed_flag(three_items[0])
    registry.recallItem(three_items[2], h("recall"), sender=merchant)

    tx = escrow.refundRecalled(order.abi, 0b101, sender=shopper)

    assert tx.events[0].items == 0b101
    assert escrow.creditOf(buyer, asset.token) == share_of(asset.amount, 3, 0b101)
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


def test_items_of_a_recalled_batch_are_refunded(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    register_batch: Any,
    activate: Any,
    register_item: Any,
    asset: Any,
) -> None:
    batch = register_batch(2)
    activate(batch, 0)
    order = open_order(item_ids=(register_item(), batch.leaf(0).item_id))
    registry.recallBatch(batch.root, h("batch recall"), sender=merchant)
    assert registry.verify(batch.leaf(0).item_id) == Verdict.RECALLED

    escrow.refundRecalled(order.abi, 0b10, sender=buyer)

    assert escrow.creditOf(buyer, asset.token) == asset.amount - asset.amount // 2


def test_refunding_the_last_open_items_makes_the_order_final(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    register_item: Any,
    asset: Any,
) -> None:
    items = (register_item(), register_item())
    order = open_order(item_ids=items)
    escrow.releaseItems(order.abi, 0b01, sender=buyer)
    registry.recallItem(items[1], h("recall"), sender=merchant)

    escrow.refundRecalled(order.abi, 0b10, sender=buyer)

    state = escrow.orderOf(order.id)
    assert (state.status, state.releasedItems, state.refundedItems) == (
        OrderStatus.REFUNDED,
        0b01,
        0b10,
    )
    assert escrow.escrowedOf(order.abi) == 0


def test_refund_leaves_a_shipped_order_delivered_when_the_rest_arrived(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    three_items: tuple[bytes, ...],
    ship: Any,
) -> None:
    order = open_order(item_ids=three_items)
    ship(order)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, 0b011)], sender=oracle)
    registry.recallItem(three_items[2], h("recall"), sender=merchant)

    escrow.refundRecalled(order.abi, 0b100, sender=buyer)

    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED


def test_recall_refund_reverts_for_an_authentic_item_in_the_bitmap(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    three_items: tuple[bytes, ...],
) -> None:
    order = open_order(item_ids=three_items)
    registry.recallItem(three_items[0], h("recall"), sender=merchant)

    with ape.reverts(
        escrow.EscrowItemNotRecalled,
        orderId=order.id,
        itemId=three_items[1],
        verdict=Verdict.AUTHENTIC,
    ):
        escrow.refundRecalled(order.abi, 0b011, sender=buyer)
    assert escrow.orderOf(order.id).refundedItems == 0


def test_recall_refund_reverts_for_empty_foreign_or_closed_items(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    three_items: tuple[bytes, ...],
) -> None:
    order = open_order(item_ids=three_items)
    escrow.releaseItems(order.abi, 0b001, sender=buyer)
    for item in three_items:
        registry.recallItem(item, h("recall"), sender=merchant)
    escrow.refundRecalled(order.abi, 0b010, sender=buyer)

    for items in (0, 0b1000, 0b001, 0b010, 0b110):
        with ape.reverts(escrow.EscrowInvalidItems, orderId=order.id, items=items):
            escrow.refundRecalled(order.abi, items, sender=buyer)


def test_recall_refund_reverts_for_a_sku_order(escrow: Any, open_order: Any, buyer: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowInvalidItems, orderId=order.id, items=1):
        escrow.refundRecalled(order.abi, 1, sender=buyer)


def test_recall_refund_reverts_once_the_order_is_final(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, merchant: Any, register_item: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    escrow.confirmReceipt(order.abi, sender=buyer)
    registry.recallItem(item, h("recall notice"), sender=merchant)

    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.RELEASED):
        escrow.refundRecalled(order.abi, 1, sender=buyer)


def test_recall_refund_of_a_funder_paid_order_credits_the_funder(
    escrow: Any,
    registry: Any,
    open_order: Any,
    funder: Any,
    buyer: Any,
    merchant: Any,
    shopper: Any,
    arbiter: Any,
    three_items: tuple[bytes, ...],
    ship: Any,
    asset: Any,
) -> None:
    order = open_order(payer=funder.address, item_ids=three_items)
    ship(order)
    registry.recallItem(three_items[0], h("recall"), sender=merchant)

    escrow.refundRecalled(order.abi, 0b001, sender=shopper)
    escrow.dispute(order.abi, h("damaged"), sender=buyer)
    escrow.resolveDispute(order.abi, BPS // 4, h("ruling"), sender=arbiter)

    refunded = share_of(order.terms.amount, 3, 0b001)
    payer_part, _, _ = split(order.terms.amount - refunded, BPS // 4, order.terms.fee_bps)
    assert escrow.payerCreditOf(order.abi) == refunded + payer_part
    assert escrow.creditOf(funder, asset.token) == refunded + payer_part
    assert escrow.creditOf(buyer, asset.token) == 0
