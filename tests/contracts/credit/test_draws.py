"""Draws: into escrow orders (the buyer keeps the order, the line pays) and to the wallet."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.helpers import (
    DAY,
    DEFAULT_TIERS,
    USD,
    LineStatus,
    Rules,
    Standing,
    reverts,
)
from tests.contracts.escrow.helpers import OrderStatus


@pytest.fixture
def approved(lines: Any, attest: Any, borrower: Any) -> Any:
    """The borrower's band-2 line (limit 2,000 USD), just approved."""
    return lines.applyForCredit(*attest(band=2).args, sender=borrower)


def test_draw_to_order_pays_escrow_and_buyer_keeps_order(
    lines: Any,
    vault: Any,
    escrow: Any,
    stable: Any,
    borrower: Any,
    merchant: Any,
    approved: Any,
    draw_order: Any,
    deliver: Any,
) -> None:
    idle = int(vault.idleAssets())
    terms, tx = draw_order(250 * USD)
    line = lines.lineOf(borrower)
    assert line.principal == 250 * USD
    assert line.dueAt == tx.timestamp + DEFAULT_TIERS[2].term
    assert tx.events.filter(lines.CreditDrawn) == [
        lines.CreditDrawn(
            borrower=borrower.address,
            orderId=terms.order_id,
            amount=250 * USD,
            principal=250 * USD,
            dueAt=line.dueAt,
        )
    ]
    opened = tx.events.filter(escrow.OrderOpened)[0]
    assert (opened.orderId, opened.buyer, opened.merchant) == (
        terms.order_id,
        borrower.address,
        merchant.address,
    )
    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert vault.idleAssets() == idle - 250 * USD
    assert vault.lentAssets() == 250 * USD
    assert stable.balanceOf(lines) == 0
    # The buyer, not the line, acts on the order; it pays the merchant once a carrier delivered.
    deliver(terms)
    escrow.confirmReceipt(terms.as_abi(), sender=borrower)
    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED


def test_draw_to_wallet_sends_principal_to_borrower(
    lines: Any, vault: Any, stable: Any, borrower: Any, approved: Any
) -> None:
    before = int(stable.balanceOf(borrower))
    tx = lines.drawToWallet(300 * USD, sender=borrower)
    assert stable.balanceOf(borrower) == before + 300 * USD
    assert lines.lineOf(borrower).principal == 300 * USD
    assert tx.events.filter(lines.CreditDrawn)[0].orderId == b"\x00" * 32
    assert vault.lentAssets() == 300 * USD


def test_draw_to_wallet_reverts_where_policy_forbids(
    lines: Any, admin: Any, attest: Any, borrower: Any
) -> None:
    lines.publishPolicy(
        Rules(wallet_draws=False).as_abi(), [t.as_abi() for t in DEFAULT_TIERS], sender=admin
    )
    lines.applyForCredit(*attest().args, sender=borrower)
    with ape.reverts(lines.CreditWalletDrawsNotAllowed, policyVersion=2):
        lines.drawToWallet(USD, sender=borrower)


def test_draw_reverts_over_limit(lines: Any, borrower: Any, approved: Any, draw_order: Any) -> None:
    draw_order(1_500 * USD)
    with ape.reverts(
        lines.CreditLimitExceeded,
        borrower=borrower.address,
        limit=2_000 * USD,
        requested=2_001 * USD,
    ):
        draw_order(501 * USD)
    with ape.reverts(
        lines.CreditLimitExceeded,
        borrower=borrower.address,
        limit=2_000 * USD,
        requested=2_100 * USD,
    ):
        lines.drawToWallet(600 * USD, sender=borrower)
    draw_order(500 * USD)
    assert lines.lineOf(borrower).principal == 2_000 * USD


def test_draw_reverts_without_line(lines: Any, borrower: Any, draw_order: Any) -> None:
    with ape.reverts(lines.CreditLineNotOpen, borrower=borrower.address):
        draw_order()
    with ape.reverts(lines.CreditLineNotOpen, borrower=borrower.address):
        lines.drawToWallet(USD, sender=borrower)


def test_draw_reverts_for_zero_amount(lines: Any, borrower: Any, approved: Any) -> None:
    with ape.reverts(lines.CreditZeroAmount):
        lines.drawToWallet(0, sender=borrower)


def test_draw_to_order_reverts_for_someone_elses_order(
    lines: Any, borrower: Any, other_borrower: Any, approved: Any, credit_terms: Any
) -> None:
    """Only the buyer draws for its order, so nobody can spend another's line."""
    terms = credit_terms()
    with ape.reverts(
        lines.CreditOrderNotForBorrower, buyer=borrower.address, caller=other_borrower.address
    ):
        lines.drawToOrder(terms.as_abi(), sender=other_borrower)


def test_draw_to_order_reverts_for_wrong_payer_or_token(
    lines: Any, borrower: Any, approved: Any, credit_terms: Any
) -> None:
    wrong_payer = credit_terms(payer=borrower.address)
    with ape.reverts(lines.CreditOrderWrongPayer, payer=borrower.address):
        lines.drawToOrder(wrong_payer.as_abi(), sender=borrower)
    eth = "0x0000000000000000000000000000000000000000"
    with ape.reverts(lines.CreditOrderWrongToken, token=eth):
        lines.drawToOrder(credit_terms(token=eth).as_abi(), sender=borrower)


def test_draw_reverts_when_escrow_refuses_the_order(
    lines: Any, vault: Any, escrow: Any, borrower: Any, approved: Any, credit_terms: Any
) -> None:
    """A refused order leaves no debt: the whole draw reverts."""
    terms = credit_terms(fee_bps=0)
    with reverts(escrow.EscrowFeeMismatch, termsFeeBps=0, currentFeeBps=250):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    assert lines.lineOf(borrower).principal == 0
    assert vault.lentAssets() == 0


def test_line_goes_on_hold_when_attestation_ages_and_fresh_one_restores_it(
    lines: Any, admin: Any, attest: Any, borrower: Any, draw_order: Any, chain: Any
) -> None:
    rules = Rules(refresh_period=10 * DAY)
    lines.publishPolicy(rules.as_abi(), [t.as_abi() for t in DEFAULT_TIERS], sender=admin)
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    draw_order(100 * USD)
    line = lines.lineOf(borrower)
    chain.pending_timestamp = line.eligibleUntil + 1
    chain.mine()
    line = lines.lineOf(borrower)
    assert line.standing == Standing.ON_HOLD
    with ape.reverts(
        lines.CreditLineOnHold,
        borrower=borrower.address,
        attestedAt=line.attestedAt,
        eligibleUntil=line.eligibleUntil,
    ):
        lines.drawToWallet(USD, sender=borrower)
    # What is owed is untouched; a fresh attestation makes the line drawable again.
    assert line.principal == 100 * USD
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.ELIGIBLE
    lines.drawToWallet(USD, sender=borrower)


def test_draw_reverts_when_past_due(
    lines: Any, borrower: Any, approved: Any, draw_order: Any, attest: Any, chain: Any
) -> None:
    draw_order(100 * USD)
    due = int(lines.lineOf(borrower).dueAt)
    chain.pending_timestamp = due + 1
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.PAST_DUE
    with ape.reverts(lines.CreditLinePastDue, borrower=borrower.address, dueAt=due):
        lines.drawToWallet(USD, sender=borrower)


def test_draw_reverts_on_frozen_line(
    lines: Any, borrower: Any, approved: Any, draw_order: Any, travel: Any
) -> None:
    draw_order(100 * USD)
    travel(30 * DAY + 60 * DAY + 1)
    lines.accrue(borrower, sender=borrower)
    assert lines.lineOf(borrower).status == LineStatus.DEFAULTED
    with ape.reverts(
        lines.CreditLineFrozen, borrower=borrower.address, status=LineStatus.DEFAULTED
    ):
        lines.drawToWallet(USD, sender=borrower)


def test_draw_reverts_while_pool_paused(
    lines: Any, vault: Any, admin: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    vault.pause(sender=admin)
    with reverts(vault.EnforcedPause):
        draw_order()
    with reverts(vault.EnforcedPause):
        lines.drawToWallet(USD, sender=borrower)
    vault.unpause(sender=admin)
    draw_order()


def test_draw_reverts_when_idle_cash_is_owed_to_queued_redemptions(
    lines: Any, vault: Any, lender: Any, borrower: Any, approved: Any, draw_order: Any
) -> None:
    """Cash kept for queued exits is not lent: with all shares but a sliver queued, a draw may take
    only the sliver's cash."""
    draw_order(100 * USD)
    shares = int(vault.balanceOf(lender))
    vault.requestRedeem(shares - shares // 1_000, lender, lender, sender=lender)
    idle, queued = int(vault.idleAssets()), int(vault.queuedAssets())
    available = idle - queued
    assert 0 < available < 1_000 * USD
    with reverts(vault.CreditPoolInsufficientLiquidity, idle=available, requested=available + 1):
        lines.drawToWallet(available + 1, sender=borrower)
    lines.drawToWallet(available, sender=borrower)
    assert vault.idleAssets() == queued


def test_order_paid_partly_with_credit_takes_the_down_payment_from_the_wallet(
    lines: Any,
    vault: Any,
    escrow: Any,
    stable: Any,
    borrower: Any,
    approved: Any,
    credit_terms: Any,
) -> None:
    terms = credit_terms(amount=480 * USD)
    wallet, idle = int(stable.balanceOf(borrower)), int(vault.idleAssets())

    tx = lines.drawToOrderWithDownPayment(terms.as_abi(), 180 * USD, sender=borrower)

    assert stable.balanceOf(borrower) == wallet - 180 * USD
    assert vault.idleAssets() == idle - 300 * USD
    assert lines.lineOf(borrower).principal == 300 * USD
    assert tx.events.filter(lines.CreditDownPaid) == [
        lines.CreditDownPaid(borrower=borrower.address, orderId=terms.order_id, amount=180 * USD)
    ]
    assert tx.events.filter(lines.CreditDrawn)[0].amount == 300 * USD
    # The order id is the hash of the terms: the escrow holds 480 paid by the line contract.
    assert tx.events.filter(escrow.OrderOpened)[0].orderId == terms.order_id
    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert stable.balanceOf(lines) == 0


@pytest.mark.parametrize("down_payment", [480, 481])
def test_down_payment_must_leave_something_to_draw(
    lines: Any, borrower: Any, approved: Any, credit_terms: Any, down_payment: int
) -> None:
    terms = credit_terms(amount=480 * USD)
    with ape.reverts(
        lines.CreditDownPaymentTooLarge, downPayment=down_payment * USD, amount=480 * USD
    ):
        lines.drawToOrderWithDownPayment(terms.as_abi(), down_payment * USD, sender=borrower)


def test_refund_of_an_order_paid_partly_with_credit_repays_the_line_then_the_borrower(
    lines: Any, escrow: Any, stable: Any, borrower: Any, approved: Any, credit_terms: Any
) -> None:
    terms = credit_terms(amount=480 * USD)
    lines.drawToOrderWithDownPayment(terms.as_abi(), 180 * USD, sender=borrower)
    escrow.cancel(terms.as_abi(), sender=borrower)
    wallet = int(stable.balanceOf(borrower))

    tx = lines.settleRefund(terms.as_abi(), sender=borrower)

    settled = tx.events.filter(lines.CreditRefundSettled)[0]
    repaid = tx.events.filter(lines.CreditRepaid)[0]
    assert repaid.principal == 300 * USD
    assert settled.surplus == 480 * USD - repaid.principal - repaid.interest - repaid.fees
    assert stable.balanceOf(borrower) == wallet + settled.surplus
    assert lines.debtOf(borrower) == 0
