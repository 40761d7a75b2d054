"""Refunds: cancellations, the missed ship-by deadline, recalled or flagged items."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import (
    DAY,
    LogisticsKind,
    OrderStatus,
    RefundReason,
    h,
    update,
)


def test_buyer_cancels_before_shipment_for_a_full_refund(
    escrow: Any, open_order: Any, buyer: Any, asset: Any
) -> None:
    order = open_order()

    tx = escrow.cancel(order.abi, sender=buyer)

    assert tx.events == [
        escrow.OrderRefunded(
            orderId=order.id,
            by=buyer.address,
            reason=RefundReason.BUYER_CANCELLED,
            payerAmount=order.terms.amount,
        )
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount
    assert escrow.escrowedOf(order.abi) == 0


def test_buyer_cancel_reverts_after_shipment(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any
) -> None:
    order = open_order()
    escrow.ship(order.abi, h("track"), sender=merchant)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        escrow.cancel(order.abi, sender=buyer)


def test_merchant_cancels_any_time_before_release(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, oracle: Any, asset: Any
) -> None:
    funded, shipped, delivered, disputed = (open_order() for _ in range(4))
    for order in (shipped, delivered, disputed):
        escrow.ship(order.abi, h("track"), sender=merchant)
    escrow.reportLogistics(
        [update(o.id, LogisticsKind.DELIVERED) for o in (delivered, disputed)], sender=oracle
    )
    escrow.dispute(disputed.abi, h("late"), sender=buyer)

    for order in (funded, shipped, delivered, disputed):
        tx = escrow.cancel(order.abi, sender=merchant)
        assert tx.events[0].reason == RefundReason.MERCHANT_CANCELLED
        assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED

    assert escrow.creditOf(buyer, asset.token) == 4 * asset.amount


def test_merchant_cancel_refunds_only_the_unreleased_items(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, register_item: Any, asset: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    escrow.releaseItems(order.abi, 0b01, sender=buyer)

    tx = escrow.cancel(order.abi, sender=merchant)

    assert tx.events[0].payerAmount == order.terms.amount - order.terms.amount // 2
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount - order.terms.amount // 2


def test_anyone_refunds_the_payer_once_ship_by_has_passed(
    escrow: Any, open_order: Any, shopper: Any, buyer: Any, asset: Any, travel: Any
) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    travel(3 * DAY + 1)

    tx = escrow.cancel(order.abi, sender=shopper)

    assert tx.events[0].reason == RefundReason.SHIP_BY_MISSED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount


def test_cancel_reverts_after_release_so_nothing_is_paid_twice(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, asset: Any
) -> None:
    order = open_order()
    escrow.confirmReceipt(order.abi, sender=buyer)
    escrow.withdraw(asset.token, sender=merchant)

    for caller in (buyer, merchant):
        with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.RELEASED):
            escrow.cancel(order.abi, sender=caller)
    with ape.reverts(escrow.EscrowNothingToWithdraw, account=merchant.address, token=asset.token):
        escrow.withdraw(asset.token, sender=merchant)
    assert escrow.creditOf(buyer, asset.token) == 0


def test_refund_then_withdraw_cannot_be_repeated(
    escrow: Any, open_order: Any, buyer: Any, asset: Any
) -> None:
    order = open_order()
    escrow.cancel(order.abi, sender=buyer)
    escrow.withdraw(asset.token, sender=buyer)

    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.REFUNDED):
        escrow.cancel(order.abi, sender=buyer)
    with ape.reverts(escrow.EscrowNothingToWithdraw, account=buyer.address, token=asset.token):
        escrow.withdraw(asset.token, sender=buyer)
    assert asset.balance_of(escrow) == 0


def test_withdraw_pays_the_credit_to_the_account(
    escrow: Any, open_order: Any, buyer: Any, asset: Any
) -> None:
    order = open_order()
    escrow.cancel(order.abi, sender=buyer)
    before = asset.balance_of(buyer)

    tx = escrow.withdraw(asset.token, sender=buyer)

    assert tx.events.filter(escrow.Withdrawn) == [
        escrow.Withdrawn(
            account=buyer.address, token=asset.token, to=buyer.address, amount=order.terms.amount
        )
    ]
    gas_cost = tx.total_fees_paid if order.terms.is_eth else 0
    assert asset.balance_of(buyer) - before == order.terms.amount - gas_cost
    assert asset.balance_of(escrow) == 0


def test_withdraw_to_pays_another_address(
    escrow: Any, open_order: Any, buyer: Any, shopper: Any, asset: Any
) -> None:
    order = open_order()
    escrow.cancel(order.abi, sender=buyer)
    before = asset.balance_of(shopper)

    escrow.withdrawTo(asset.token, shopper, sender=buyer)

    assert asset.balance_of(shopper) - before == order.terms.amount


def test_buyer_refunds_in_full_when_an_item_is_recalled(
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
    escrow.ship(order.abi, h("track"), sender=merchant)
    registry.recallItem(items[1], h("recall notice"), sender=merchant)

    tx = escrow.refundRecalled(order.abi, 1, sender=buyer)

    assert tx.events[0].reason == RefundReason.ITEM_RECALLED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount


def test_buyer_refunds_in_full_when_an_item_is_flagged_counterfeit(
    escrow: Any, open_order: Any, buyer: Any, register_item: Any, confirmed_flag: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    confirmed_flag(item)

    escrow.refundRecalled(order.abi, 0, sender=buyer)

    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED


def test_recall_refund_reverts_for_an_authentic_item(
    escrow: Any, open_order: Any, buyer: Any, register_item: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    with ape.reverts(escrow.EscrowItemNotRecalled, orderId=order.id, itemId=item, verdict=0):
        escrow.refundRecalled(order.abi, 0, sender=buyer)


def test_recall_refund_reverts_for_item_index_out_of_range(
    escrow: Any, open_order: Any, buyer: Any
) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowItemIndexOutOfRange, orderId=order.id, index=0):
        escrow.refundRecalled(order.abi, 0, sender=buyer)


def test_recall_refund_reverts_for_anyone_but_the_buyer(
    escrow: Any, open_order: Any, merchant: Any, register_item: Any
) -> None:
    order = open_order(item_ids=(register_item(),))
    with ape.reverts(escrow.EscrowNotBuyer, orderId=order.id, caller=merchant.address):
        escrow.refundRecalled(order.abi, 0, sender=merchant)


def test_recall_refund_reverts_after_release(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, merchant: Any, register_item: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    escrow.confirmReceipt(order.abi, sender=buyer)
    registry.recallItem(item, h("recall notice"), sender=merchant)

    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.RELEASED):
        escrow.refundRecalled(order.abi, 0, sender=buyer)
