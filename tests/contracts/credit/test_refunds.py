"""Refunds of escrow orders paid with credit return to the line and reduce the borrower's debt.

`settleRefund` is incremental: it applies what the escrow credited the lines for the order
(`payerCreditOf`) beyond what was settled before, so a partial refund (recalled items) settles at
once and the rest of the order's refunds settle later."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.vocab import RefundReason
from tests.contracts.credit.helpers import DAY, USD, reverts
from tests.contracts.escrow.helpers import OrderStatus, h


@pytest.fixture
def approved(lines: Any, attest: Any, borrower: Any) -> Any:
    return lines.applyForCredit(*attest(band=2).args, sender=borrower)


def _payer_amount(tx: Any, escrow: Any) -> int:
    events = tx.events.filter(escrow.OrderRefunded) or tx.events.filter(escrow.OrderSettled)
    return int(events[0].payerAmount)


def _settled(tx: Any, lines: Any) -> Any:
    return tx.events.filter(lines.CreditRefundSettled)[0]


def test_cancelled_order_refund_reduces_debt(
    lines: Any,
    escrow: Any,
    vault: Any,
    stable: Any,
    borrower: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
) -> None:
    terms, _ = draw_order(250 * USD)
    cancel = escrow.cancel(terms.as_abi(), sender=borrower)
    assert escrow.creditOf(lines, stable) == 250 * USD
    assert lines.refundOf(terms.as_abi()) == _payer_amount(cancel, escrow) == 250 * USD
    debt = int(lines.debtOf(borrower))
    tx = lines.settleRefund(terms.as_abi(), sender=shopper)
    settled = _settled(tx, lines)
    assert (settled.orderId, settled.borrower, settled.refund) == (
        terms.order_id,
        borrower.address,
        250 * USD,
    )
    repaid = tx.events.filter(lines.CreditRepaid)[0]
    assert repaid.payer == escrow.address
    assert repaid.interest + repaid.principal + settled.surplus == 250 * USD
    assert lines.debtOf(borrower) <= debt - 250 * USD + settled.surplus + 1
    assert lines.refundSettledOf(terms.order_id) == 250 * USD
    assert lines.refundOf(terms.as_abi()) == 0
    assert escrow.creditOf(lines, stable) == 0
    assert stable.balanceOf(lines) == 0
    assert vault.lentAssets() == lines.lineOf(borrower).principal


def test_refund_beyond_the_debt_goes_to_the_borrower(
    lines: Any, escrow: Any, stable: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    terms, _ = draw_order(250 * USD)
    lines.repay(borrower, 1_000 * USD, sender=borrower)
    escrow.cancel(terms.as_abi(), sender=borrower)
    balance = int(stable.balanceOf(borrower))
    tx = lines.settleRefund(terms.as_abi(), sender=borrower)
    assert _settled(tx, lines).surplus == 250 * USD
    assert stable.balanceOf(borrower) == balance + 250 * USD


def test_refund_after_partial_release_is_the_remainder(
    lines: Any,
    escrow: Any,
    borrower: Any,
    merchant: Any,
    approved: Any,
    draw_order: Any,
    deliver: Any,
) -> None:
    amount = 300 * USD + 2
    terms, _ = draw_order(amount, items=3)
    deliver(terms, items=0b001)
    escrow.releaseItems(terms.as_abi(), 0b001, sender=borrower)
    cancel = escrow.cancel(terms.as_abi(), sender=merchant)
    refund = _payer_amount(cancel, escrow)
    assert refund == amount - amount // 3
    assert lines.refundOf(terms.as_abi()) == refund
    tx = lines.settleRefund(terms.as_abi(), sender=merchant)
    assert _settled(tx, lines).refund == refund


def test_settlement_split_returns_the_payers_share(
    lines: Any,
    escrow: Any,
    borrower: Any,
    merchant: Any,
    approved: Any,
    draw_order: Any,
    deliver: Any,
    chain: Any,
) -> None:
    terms, _ = draw_order(333 * USD + 7)
    deliver(terms)
    expires = int(chain.pending_timestamp) + DAY
    escrow.offerSettlement(terms.as_abi(), 6_000, expires, sender=merchant)
    accepted = escrow.acceptSettlement(terms.as_abi(), 6_000, sender=borrower)
    refund = _payer_amount(accepted, escrow)
    assert lines.refundOf(terms.as_abi()) == refund == (333 * USD + 7) * 6_000 // 10_000
    tx = lines.settleRefund(terms.as_abi(), sender=merchant)
    assert _settled(tx, lines).refund == refund


def test_two_refunds_settle_independently(
    lines: Any, escrow: Any, stable: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    first, _ = draw_order(100 * USD)
    second, _ = draw_order(200 * USD)
    escrow.cancel(first.as_abi(), sender=borrower)
    escrow.cancel(second.as_abi(), sender=borrower)
    settled = [lines.settleRefund(second.as_abi(), sender=borrower)]
    # The first refund was withdrawn with the second and waits in the lines contract.
    assert stable.balanceOf(lines) == 100 * USD
    settled.append(lines.settleRefund(first.as_abi(), sender=borrower))
    assert stable.balanceOf(lines) == 0
    # Interest comes first in the waterfall: the refunds leave exactly that much principal.
    interest_paid = sum(tx.events.filter(lines.CreditRepaid)[0].interest for tx in settled)
    assert interest_paid > 0
    assert lines.lineOf(borrower).principal == interest_paid


# ------------------------------------------------------------------ incremental settlement


def test_recall_refund_settles_at_once_and_the_final_cancel_settles_the_rest(
    lines: Any,
    escrow: Any,
    registry: Any,
    stable: Any,
    borrower: Any,
    merchant: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
) -> None:
    amount = 300 * USD + 2
    share = amount // 3
    terms, _ = draw_order(amount, items=3)
    registry.recallItem(terms.item_ids[1], h("battery fault"), sender=merchant)
    recall = escrow.refundRecalled(terms.as_abi(), 0b010, sender=shopper)
    refunded = recall.events.filter(escrow.OrderRefunded)[0]
    assert (refunded.reason, refunded.items, refunded.payerAmount) == (
        RefundReason.ITEM_RECALLED,
        0b010,
        share,
    )
    # The rest of the order goes on.
    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert lines.refundOf(terms.as_abi()) == share

    first = lines.settleRefund(terms.as_abi(), sender=shopper)
    assert _settled(first, lines).refund == share
    assert lines.refundSettledOf(terms.order_id) == share
    assert lines.refundOf(terms.as_abi()) == 0
    assert stable.balanceOf(lines) == 0
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=shopper)

    escrow.cancel(terms.as_abi(), sender=merchant)
    rest = amount - share
    assert lines.refundOf(terms.as_abi()) == rest
    second = lines.settleRefund(terms.as_abi(), sender=shopper)
    assert _settled(second, lines).refund == rest
    assert lines.refundSettledOf(terms.order_id) == amount
    repaid = [tx.events.filter(lines.CreditRepaid)[0] for tx in (first, second)]
    assert sum(r.interest + r.principal for r in repaid) == amount
    assert lines.lineOf(borrower).principal == sum(r.interest for r in repaid)
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=shopper)


def test_recall_refund_then_delivery_pays_the_merchant_only_the_rest(
    lines: Any,
    escrow: Any,
    registry: Any,
    stable: Any,
    borrower: Any,
    merchant: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
    deliver: Any,
) -> None:
    amount = 300 * USD + 2
    terms, _ = draw_order(amount, items=3)
    registry.recallItem(terms.item_ids[2], h("battery fault"), sender=merchant)
    escrow.refundRecalled(terms.as_abi(), 0b100, sender=shopper)
    # The last item carries the rounding: its refund is the rest after two floor shares.
    last_share = amount - 2 * (amount // 3)
    settled = lines.settleRefund(terms.as_abi(), sender=shopper)
    assert _settled(settled, lines).refund == last_share
    deliver(terms)
    release = escrow.confirmReceipt(terms.as_abi(), sender=borrower)
    paid = release.events.filter(escrow.OrderReleased)[0]
    assert paid.merchantAmount + paid.feeAmount == 2 * (amount // 3)
    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=shopper)


def test_recall_refund_then_settlement_settles_the_payers_split_of_the_rest(
    lines: Any,
    escrow: Any,
    registry: Any,
    borrower: Any,
    merchant: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
    deliver: Any,
    chain: Any,
) -> None:
    amount = 400 * USD
    terms, _ = draw_order(amount, items=4)
    registry.recallItem(terms.item_ids[0], h("battery fault"), sender=merchant)
    escrow.refundRecalled(terms.as_abi(), 0b0001, sender=shopper)
    lines.settleRefund(terms.as_abi(), sender=shopper)
    deliver(terms)
    expires = int(chain.pending_timestamp) + DAY
    escrow.offerSettlement(terms.as_abi(), 2_500, expires, sender=borrower)
    escrow.acceptSettlement(terms.as_abi(), 2_500, sender=merchant)
    split = 300 * USD * 2_500 // 10_000
    assert escrow.payerCreditOf(terms.as_abi()) == 100 * USD + split
    assert lines.refundOf(terms.as_abi()) == split
    assert _settled(lines.settleRefund(terms.as_abi(), sender=shopper), lines).refund == split
    assert lines.refundSettledOf(terms.order_id) == 100 * USD + split


def test_shipped_order_never_reported_delivered_is_refunded_to_the_line_by_anyone(
    lines: Any,
    escrow: Any,
    borrower: Any,
    merchant: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
    chain: Any,
) -> None:
    """A credit order the carrier never reported delivered never pays the merchant: past deliverBy
    and the dispute window anyone refunds it, and the refund settles to the line."""
    terms, _ = draw_order(250 * USD, items=2)
    escrow.ship(terms.as_abi(), 1, h("tracking"), sender=merchant)
    chain.pending_timestamp = terms.deliver_by + terms.dispute_window
    cancel = escrow.cancel(terms.as_abi(), sender=shopper)
    refunded = cancel.events.filter(escrow.OrderRefunded)[0]
    assert (refunded.reason, refunded.items, refunded.payerAmount) == (
        RefundReason.DELIVERY_NOT_REPORTED,
        0b11,
        250 * USD,
    )
    tx = lines.settleRefund(terms.as_abi(), sender=shopper)
    assert _settled(tx, lines).refund == 250 * USD
    # Twelve days of interest came first in the waterfall: that much principal is left.
    interest = int(tx.events.filter(lines.CreditRepaid)[0].interest)
    assert interest > USD
    assert lines.lineOf(borrower).principal == interest


# ------------------------------------------------------------------ refusals


def test_settle_refund_reverts_twice(
    lines: Any, escrow: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    terms, _ = draw_order()
    escrow.cancel(terms.as_abi(), sender=borrower)
    lines.settleRefund(terms.as_abi(), sender=borrower)
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=borrower)


def test_settle_refund_reverts_while_nothing_was_refunded(
    lines: Any, escrow: Any, borrower: Any, approved: Any, draw_order: Any, deliver: Any
) -> None:
    """An open order with no refund, and an order released in full, have nothing to settle."""
    terms, _ = draw_order()
    assert lines.refundOf(terms.as_abi()) == 0
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=borrower)
    deliver(terms)
    escrow.confirmReceipt(terms.as_abi(), sender=borrower)
    with reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=borrower)
    assert lines.refundSettledOf(terms.order_id) == 0


def test_settle_refund_reverts_for_order_not_paid_with_credit(
    lines: Any, borrower: Any, credit_terms: Any
) -> None:
    terms = credit_terms(payer=borrower.address)
    with reverts(lines.CreditRefundNotFromLine, orderId=terms.order_id, payer=borrower.address):
        lines.settleRefund(terms.as_abi(), sender=borrower)
