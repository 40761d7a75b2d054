"""Refunds of escrow orders paid with credit return to the line and reduce the borrower's debt."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.helpers import USD
from tests.contracts.escrow.helpers import OrderStatus, h


@pytest.fixture
def approved(lines: Any, attest: Any, borrower: Any) -> Any:
    return lines.applyForCredit(*attest(band=2).args, sender=borrower)


def _payer_amount(tx: Any, escrow: Any) -> int:
    events = tx.events.filter(escrow.OrderRefunded) or tx.events.filter(escrow.OrderSettled)
    return int(events[0].payerAmount)


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
    settled = tx.events.filter(lines.CreditRefundSettled)[0]
    assert (settled.orderId, settled.borrower, settled.refund) == (
        terms.order_id,
        borrower.address,
        250 * USD,
    )
    repaid = tx.events.filter(lines.CreditRepaid)[0]
    assert repaid.payer == escrow.address
    assert repaid.interest + repaid.principal + settled.surplus == 250 * USD
    assert lines.debtOf(borrower) <= debt - 250 * USD + settled.surplus + 1
    assert lines.isRefundSettled(terms.order_id)
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
    assert tx.events.filter(lines.CreditRefundSettled)[0].surplus == 250 * USD
    assert stable.balanceOf(borrower) == balance + 250 * USD


def test_refund_after_partial_release_is_the_remainder(
    lines: Any, escrow: Any, borrower: Any, merchant: Any, approved: Any, draw_order: Any
) -> None:
    items = (h("item a"), h("item b"), h("item c"))
    terms, _ = draw_order(300 * USD + 2, item_ids=items)
    escrow.releaseItems(terms.as_abi(), 0b001, sender=borrower)
    cancel = escrow.cancel(terms.as_abi(), sender=merchant)
    refund = _payer_amount(cancel, escrow)
    assert refund == 300 * USD + 2 - (300 * USD + 2) // 3
    assert lines.refundOf(terms.as_abi()) == refund
    tx = lines.settleRefund(terms.as_abi(), sender=merchant)
    assert tx.events.filter(lines.CreditRefundSettled)[0].refund == refund


def test_settlement_split_returns_the_payers_share(
    lines: Any, escrow: Any, borrower: Any, merchant: Any, approved: Any, draw_order: Any
) -> None:
    terms, _ = draw_order(333 * USD + 7)
    escrow.ship(terms.as_abi(), h("tracking"), sender=merchant)
    escrow.offerSettlement(terms.as_abi(), 6_000, sender=merchant)
    accepted = escrow.acceptSettlement(terms.as_abi(), 6_000, sender=borrower)
    refund = _payer_amount(accepted, escrow)
    assert lines.refundOf(terms.as_abi()) == refund == (333 * USD + 7) * 6_000 // 10_000
    tx = lines.settleRefund(terms.as_abi(), sender=merchant)
    assert tx.events.filter(lines.CreditRefundSettled)[0].refund == refund


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


def test_settle_refund_reverts_twice(
    lines: Any, escrow: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    terms, _ = draw_order()
    escrow.cancel(terms.as_abi(), sender=borrower)
    lines.settleRefund(terms.as_abi(), sender=borrower)
    with ape.reverts(lines.CreditRefundAlreadySettled, orderId=terms.order_id):
        lines.settleRefund(terms.as_abi(), sender=borrower)


def test_settle_refund_reverts_for_open_or_released_order(
    lines: Any, escrow: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    terms, _ = draw_order()
    with ape.reverts(lines.CreditRefundNotFinal, orderId=terms.order_id, status=OrderStatus.FUNDED):
        lines.settleRefund(terms.as_abi(), sender=borrower)
    escrow.confirmReceipt(terms.as_abi(), sender=borrower)
    with ape.reverts(
        lines.CreditRefundNotFinal, orderId=terms.order_id, status=OrderStatus.RELEASED
    ):
        lines.settleRefund(terms.as_abi(), sender=borrower)


def test_settle_refund_reverts_for_order_not_paid_with_credit(
    lines: Any, borrower: Any, credit_terms: Any
) -> None:
    terms = credit_terms(payer=borrower.address)
    with ape.reverts(lines.CreditRefundNotFromLine, orderId=terms.order_id, payer=borrower.address):
        lines.settleRefund(terms.as_abi(), sender=borrower)
