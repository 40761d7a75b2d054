"""Orders paid by a funder (a credit line: `payer != buyer`, opened with `openFor`) reach the
merchant only through a carrier's delivery report or an arbiter's ruling, never on the buyer's
word alone: a borrower cannot turn credit into cash by "buying" from itself.

The `funder` account holds FUNDER_ROLE directly and opens orders with payer = itself.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import (
    BPS,
    LogisticsKind,
    OrderStatus,
    RefundReason,
    SettlementKind,
    h,
    share_of,
    split,
    update,
)


@pytest.fixture
def funded(open_order: Any, funder: Any, register_item: Any) -> Any:
    """Opens a funder-paid order of `count` fresh items for the buyer."""

    def run(count: int = 2) -> Any:
        return open_order(
            payer=funder.address, item_ids=tuple(register_item() for _ in range(count))
        )

    return run


def deliver(escrow: Any, oracle: Any, order: Any, items: int = 0) -> Any:
    return escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED, items)], sender=oracle)


def test_funder_opens_the_order_for_the_buyer_and_pays_it(
    escrow: Any, funded: Any, funder: Any, buyer: Any, asset: Any
) -> None:
    order = funded()

    [event] = order.tx.events.filter(escrow.OrderOpened)
    assert (event.buyer, order.terms.payer) == (buyer.address, funder.address)
    assert escrow.escrowedOf(order.abi) == order.terms.amount == asset.balance_of(escrow)


def test_buyer_confirm_cannot_pay_undelivered_items(
    escrow: Any, funded: Any, buyer: Any, oracle: Any, ship: Any
) -> None:
    order = funded()
    with ape.reverts(escrow.EscrowDeliveryUnproven, orderId=order.id, undelivered=0b11):
        escrow.confirmReceipt(order.abi, sender=buyer)
    ship(order)
    deliver(escrow, oracle, order, 0b01)

    with ape.reverts(escrow.EscrowDeliveryUnproven, orderId=order.id, undelivered=0b10):
        escrow.confirmReceipt(order.abi, sender=buyer)
    with ape.reverts(escrow.EscrowDeliveryUnproven, orderId=order.id, undelivered=0b10):
        escrow.releaseItems(order.abi, 0b11, sender=buyer)
    assert escrow.orderOf(order.id).releasedItems == 0


def test_buyer_releases_delivered_items_at_once(
    escrow: Any, funded: Any, buyer: Any, merchant: Any, oracle: Any, ship: Any, asset: Any
) -> None:
    order = funded()
    ship(order)
    deliver(escrow, oracle, order, 0b01)

    tx = escrow.releaseItems(order.abi, 0b01, sender=buyer)

    [event] = tx.events.filter(escrow.OrderReleased)
    assert event.merchantAmount + event.feeAmount == share_of(order.terms.amount, 2, 0b01)
    deliver(escrow, oracle, order)
    escrow.confirmReceipt(order.abi, sender=buyer)
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED
    assert escrow.creditOf(merchant, asset.token) > 0


def test_an_undelivered_order_is_not_released_after_the_window(
    escrow: Any, funded: Any, shopper: Any, ship: Any, chain: Any
) -> None:
    """A wallet-paid order shipped and never reported delivered is released at deliverBy plus
    the window; a funder-paid one is not."""
    order = funded()
    ship(order)
    chain.pending_timestamp = order.terms.deliver_by + order.terms.dispute_window

    with ape.reverts(escrow.EscrowDeliveryUnproven, orderId=order.id, undelivered=0b11):
        escrow.release(order.abi, sender=shopper)


def test_anyone_refunds_the_undelivered_items_after_deliver_by_and_the_window(
    escrow: Any,
    funded: Any,
    funder: Any,
    buyer: Any,
    oracle: Any,
    shopper: Any,
    ship: Any,
    chain: Any,
    asset: Any,
) -> None:
    order = funded(3)
    ship(order)
    deliver(escrow, oracle, order, 0b001)
    deadline = order.terms.deliver_by + order.terms.dispute_window
    chain.pending_timestamp = deadline - 1
    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    chain.pending_timestamp = deadline

    tx = escrow.cancel(order.abi, sender=shopper)

    refund = share_of(order.terms.amount, 3, 0b110)
    assert tx.events.filter(escrow.OrderRefunded) == [
        escrow.OrderRefunded(
            orderId=order.id,
            by=shopper.address,
            reason=RefundReason.DELIVERY_NOT_REPORTED,
            items=0b110,
            payerAmount=refund,
        )
    ]
    assert escrow.creditOf(funder, asset.token) == refund
    assert escrow.creditOf(buyer, asset.token) == 0
    assert escrow.payerCreditOf(order.abi) == refund
    # What is left was delivered: it is released as any delivered item is.
    assert escrow.orderOf(order.id).status == OrderStatus.DELIVERED
    escrow.release(order.abi, sender=shopper)
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_an_order_never_reported_delivered_is_refunded_in_full(
    escrow: Any, funded: Any, funder: Any, buyer: Any, ship: Any, chain: Any, asset: Any
) -> None:
    order = funded()
    ship(order)
    chain.pending_timestamp = order.terms.deliver_by + order.terms.dispute_window

    tx = escrow.cancel(order.abi, sender=buyer)

    assert tx.events[0].reason == RefundReason.DELIVERY_NOT_REPORTED
    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(funder, asset.token) == order.terms.amount


def test_no_agreement_before_every_open_item_was_delivered(
    escrow: Any, funded: Any, buyer: Any, merchant: Any, oracle: Any, ship: Any, chain: Any
) -> None:
    order = funded()
    ship(order)
    deliver(escrow, oracle, order, 0b01)
    escrow.offerSettlement(order.abi, 1_000, chain.pending_timestamp + 86_400, sender=merchant)

    with ape.reverts(escrow.EscrowDeliveryUnproven, orderId=order.id, undelivered=0b10):
        escrow.acceptSettlement(order.abi, 1_000, sender=buyer)

    deliver(escrow, oracle, order)
    tx = escrow.acceptSettlement(order.abi, 1_000, sender=buyer)
    assert tx.events[0].kind == SettlementKind.AGREEMENT


def disputed(escrow: Any, order: Any, buyer: Any, merchant: Any, answered: bool) -> int:
    escrow.dispute(order.abi, h("not received"), sender=buyer)
    if answered:
        escrow.submitEvidence(order.abi, h("shipping receipt"), sender=merchant)
    return int(escrow.orderOf(order.id).disputeDeadline)


def test_timeout_refunds_in_full_when_goods_were_never_reported_delivered(
    escrow: Any,
    funded: Any,
    funder: Any,
    buyer: Any,
    merchant: Any,
    shopper: Any,
    ship: Any,
    chain: Any,
    asset: Any,
) -> None:
    """Even a merchant that answered the dispute gets nothing without a delivery report."""
    order = funded()
    ship(order)
    chain.pending_timestamp = disputed(escrow, order, buyer, merchant, answered=True)

    tx = escrow.resolveExpiredDispute(order.abi, sender=shopper)

    event = tx.events[0]
    assert (event.kind, event.buyerBps, event.payerAmount) == (
        SettlementKind.ARBITRATION_TIMEOUT,
        BPS,
        order.terms.amount,
    )
    assert escrow.creditOf(funder, asset.token) == order.terms.amount
    assert escrow.creditOf(merchant, asset.token) == 0


def test_timeout_splits_evenly_when_delivered_and_the_merchant_answered(
    escrow: Any,
    funded: Any,
    funder: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    shopper: Any,
    ship: Any,
    chain: Any,
    asset: Any,
) -> None:
    order = funded()
    ship(order)
    deliver(escrow, oracle, order)
    chain.pending_timestamp = disputed(escrow, order, buyer, merchant, answered=True)

    escrow.resolveExpiredDispute(order.abi, sender=shopper)

    payer, net, _ = split(order.terms.amount, BPS // 2, order.terms.fee_bps)
    assert escrow.creditOf(funder, asset.token) == payer
    assert escrow.creditOf(merchant, asset.token) == net


def test_arbiter_may_pay_the_merchant_without_a_delivery_report(
    escrow: Any,
    funded: Any,
    funder: Any,
    buyer: Any,
    merchant: Any,
    arbiter: Any,
    ship: Any,
    asset: Any,
) -> None:
    order = funded()
    ship(order)
    disputed(escrow, order, buyer, merchant, answered=True)

    escrow.resolveDispute(order.abi, 0, h("delivered by hand"), sender=arbiter)

    _, net, _ = split(order.terms.amount, 0, order.terms.fee_bps)
    assert escrow.creditOf(merchant, asset.token) == net
    assert escrow.creditOf(funder, asset.token) == 0
    assert escrow.payerCreditOf(order.abi) == 0
