"""Refunds: the buyer's and the merchant's cancellations, anyone's refund of an order nobody
shipped in time, and withdrawals. Recall refunds are in test_recalls.py."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import (
    CARRIER,
    LogisticsKind,
    OrderStatus,
    RefundReason,
    h,
    share_of,
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
            items=1,
            payerAmount=order.terms.amount,
        )
    ]
    assert escrow.orderOf(order.id).refundedItems == 1
    assert escrow.payerCreditOf(order.abi) == order.terms.amount
    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount
    assert escrow.escrowedOf(order.abi) == 0


def test_buyer_cancel_reverts_after_shipment(
    escrow: Any, open_order: Any, buyer: Any, ship: Any
) -> None:
    order = open_order()
    ship(order)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        escrow.cancel(order.abi, sender=buyer)


def test_buyer_cannot_cancel_once_a_carrier_is_named(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any
) -> None:
    """The goods may already be on their way (the pickup report can come late)."""
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    with ape.reverts(escrow.EscrowHandedToCarrier, orderId=order.id, carrier=CARRIER):
        escrow.cancel(order.abi, sender=buyer)
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


def test_merchant_cancels_any_time_before_release(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, oracle: Any, asset: Any
) -> None:
    funded, handed, shipped, delivered, disputed = (open_order() for _ in range(5))
    escrow.assignCarrier(handed.abi, CARRIER, sender=merchant)
    for order in (shipped, delivered, disputed):
        escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    escrow.reportLogistics(
        [update(o.id, LogisticsKind.DELIVERED) for o in (delivered, disputed)], sender=oracle
    )
    escrow.dispute(disputed.abi, h("late"), sender=buyer)

    for order in (funded, handed, shipped, delivered, disputed):
        tx = escrow.cancel(order.abi, sender=merchant)
        assert tx.events[0].reason == RefundReason.MERCHANT_CANCELLED
        assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED

    assert escrow.creditOf(buyer, asset.token) == 5 * asset.amount


def test_merchant_cancel_refunds_only_the_unreleased_items(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, register_item: Any, asset: Any
) -> None:
    order = open_order(item_ids=(register_item(), register_item()))
    escrow.releaseItems(order.abi, 0b01, sender=buyer)

    tx = escrow.cancel(order.abi, sender=merchant)

    [refunded] = tx.events.filter(escrow.OrderRefunded)
    assert (refunded.items, refunded.payerAmount) == (0b10, share_of(order.terms.amount, 2, 0b10))
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount - order.terms.amount // 2


def test_anyone_refunds_the_payer_once_ship_by_has_passed_with_no_carrier(
    escrow: Any, open_order: Any, shopper: Any, buyer: Any, asset: Any, chain: Any
) -> None:
    order = open_order()
    chain.pending_timestamp = order.terms.ship_by
    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    chain.pending_timestamp = order.terms.ship_by + 1

    tx = escrow.cancel(order.abi, sender=shopper)

    assert tx.events[0].reason == RefundReason.SHIP_BY_MISSED
    assert tx.events[0].by == shopper.address
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount
    assert escrow.creditOf(shopper, asset.token) == 0


def test_anyone_refunds_an_order_handed_to_a_carrier_only_after_deliver_by(
    escrow: Any,
    open_order: Any,
    merchant: Any,
    shopper: Any,
    buyer: Any,
    asset: Any,
    chain: Any,
) -> None:
    """A lost pickup report does not let anyone refund a parcel in transit before deliverBy."""
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)
    chain.pending_timestamp = order.terms.deliver_by
    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    chain.pending_timestamp = order.terms.deliver_by + 1

    tx = escrow.cancel(order.abi, sender=shopper)

    assert tx.events[0].reason == RefundReason.SHIP_BY_MISSED
    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount


def test_nobody_but_the_merchant_refunds_a_shipped_wallet_order(
    escrow: Any, open_order: Any, shopper: Any, buyer: Any, ship: Any, chain: Any
) -> None:
    """A wallet-paid order shipped and never reported delivered counts as delivered at deliverBy:
    it is released, not refunded, once the window runs out."""
    order = open_order()
    ship(order)
    chain.pending_timestamp = order.terms.deliver_by + order.terms.dispute_window + 1

    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        escrow.cancel(order.abi, sender=buyer)


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
