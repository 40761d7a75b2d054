"""Interest, repayments by the waterfall (fees, interest, principal), late fees, defaults,
write-offs and recovery by full repayment."""

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
    interest,
)

TIER = DEFAULT_TIERS[2]
PRINCIPAL = 1_000 * USD


@pytest.fixture
def drawn(lines: Any, attest: Any, borrower: Any) -> Any:
    """The borrower's band-2 line with 1,000 USD drawn to the wallet; returns the draw receipt."""
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    return lines.drawToWallet(PRINCIPAL, sender=borrower)


def test_interest_accrues_per_second_rounded_up(
    lines: Any, borrower: Any, drawn: Any, chain: Any
) -> None:
    for elapsed in (1, 3_600, 7 * DAY):
        chain.pending_timestamp = drawn.timestamp + elapsed
        chain.mine()
        assert lines.lineOf(borrower).interest == interest(PRINCIPAL, TIER.apr_bps, elapsed)
    # One second of 18% on 1,000 USD is 5.7 micro-dollars: rounded up to 6.
    assert interest(PRINCIPAL, TIER.apr_bps, 1) == 6


def test_repay_applies_fees_then_interest_then_principal(
    lines: Any, vault: Any, stable: Any, borrower: Any, drawn: Any, chain: Any
) -> None:
    due = drawn.timestamp + TIER.term
    chain.pending_timestamp = due + TIER.grace_period + 1
    owed_interest = interest(PRINCIPAL, TIER.apr_bps, TIER.term + TIER.grace_period + 1)
    assets = int(vault.totalAssets())
    # Less than the fee: all of it goes to the fee.
    tx = lines.repay(borrower, 10 * USD, sender=borrower)
    assert tx.events.filter(lines.CreditLateFeeCharged) == [
        lines.CreditLateFeeCharged(borrower=borrower.address, fee=TIER.late_fee, dueAt=due)
    ]
    assert tx.events.filter(lines.CreditRepaid) == [
        lines.CreditRepaid(
            borrower=borrower.address,
            payer=borrower.address,
            fees=10 * USD,
            interest=0,
            principal=0,
        )
    ]
    assert tx.events.filter(vault.RepaymentReceived)[0].income == 10 * USD
    # Next: the rest of the fee, the interest, then some principal.
    line = lines.lineOf(borrower)
    chain.pending_timestamp = tx.timestamp + 1
    rest_fee = TIER.late_fee - 10 * USD
    owed_then = int(line.interest) + interest(PRINCIPAL, TIER.apr_bps, 1)
    pay = rest_fee + owed_then + 100 * USD
    tx = lines.repay(borrower, pay, sender=borrower)
    repaid = tx.events.filter(lines.CreditRepaid)[0]
    assert (repaid.fees, repaid.interest, repaid.principal) == (rest_fee, owed_then, 100 * USD)
    assert line.interest >= owed_interest
    assert lines.lineOf(borrower).principal == PRINCIPAL - 100 * USD
    assert vault.lentAssets() == PRINCIPAL - 100 * USD
    # The late fee impaired the principal; what was repaid of it returns to the assets as income
    # does, over the unlock period. Then fees and interest have raised the assets, and the
    # principal still owed stays impaired.
    assert vault.impairedAssets() == PRINCIPAL - 100 * USD
    chain.pending_timestamp = tx.timestamp + 7 * DAY
    chain.mine()
    assert vault.lockedIncome() == 0
    assert vault.totalAssets() == assets + TIER.late_fee + owed_then - (PRINCIPAL - 100 * USD)


def test_repay_full_takes_only_what_is_owed_and_ends_the_cycle(
    lines: Any, vault: Any, stable: Any, borrower: Any, drawn: Any, travel: Any
) -> None:
    travel(10 * DAY)
    balance = int(stable.balanceOf(borrower))
    tx = lines.repay(borrower, 10 * PRINCIPAL, sender=borrower)
    repaid = tx.events.filter(lines.CreditRepaid)[0]
    expected_interest = interest(PRINCIPAL, TIER.apr_bps, tx.timestamp - drawn.timestamp)
    assert (repaid.fees, repaid.interest, repaid.principal) == (0, expected_interest, PRINCIPAL)
    assert stable.balanceOf(borrower) == balance - PRINCIPAL - expected_interest
    line = lines.lineOf(borrower)
    assert (line.principal, line.interest, line.fees, line.dueAt) == (0, 0, 0, 0)
    assert vault.lentAssets() == 0
    with ape.reverts(lines.CreditNothingOwed, borrower=borrower.address):
        lines.repay(borrower, USD, sender=borrower)


def test_anyone_may_repay_for_a_borrower(
    lines: Any, stable: Any, borrower: Any, shopper: Any, drawn: Any
) -> None:
    stable.mint(shopper, 100 * USD, sender=shopper)
    stable.approve(lines, 100 * USD, sender=shopper)
    tx = lines.repay(borrower, 100 * USD, sender=shopper)
    assert tx.events.filter(lines.CreditRepaid)[0].payer == shopper.address
    assert lines.debtOf(borrower) < PRINCIPAL


def test_repay_reverts_for_zero_amount_or_unknown_line(
    lines: Any, borrower: Any, shopper: Any
) -> None:
    with ape.reverts(lines.CreditZeroAmount):
        lines.repay(borrower, 0, sender=borrower)
    with ape.reverts(lines.CreditLineNotOpen, borrower=shopper.address):
        lines.repay(shopper, USD, sender=borrower)


def test_late_fee_is_charged_once_per_cycle(
    lines: Any, borrower: Any, drawn: Any, chain: Any
) -> None:
    chain.pending_timestamp = drawn.timestamp + TIER.term + TIER.grace_period
    lines.accrue(borrower, sender=borrower)
    assert lines.lineOf(borrower).fees == 0
    tx = lines.accrue(borrower, sender=borrower)
    assert tx.events.filter(lines.CreditLateFeeCharged)
    tx = lines.accrue(borrower, sender=borrower)
    assert not tx.events.filter(lines.CreditLateFeeCharged)
    assert lines.lineOf(borrower).fees == TIER.late_fee


def test_default_freezes_line_until_full_repayment(
    lines: Any, attest: Any, borrower: Any, drawn: Any, chain: Any
) -> None:
    due = drawn.timestamp + TIER.term
    chain.pending_timestamp = due + Rules().default_after
    lines.accrue(borrower, sender=borrower)
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE
    tx = lines.accrue(borrower, sender=borrower)
    [defaulted] = tx.events.filter(lines.CreditLineDefaulted)
    assert (defaulted.borrower, defaulted.principal, defaulted.fees) == (
        borrower.address,
        PRINCIPAL,
        TIER.late_fee,
    )
    assert lines.lineOf(borrower).standing == Standing.DEFAULTED
    lines.repay(borrower, PRINCIPAL, sender=borrower)
    assert lines.lineOf(borrower).status == LineStatus.DEFAULTED
    tx = lines.repay(borrower, 10 * PRINCIPAL, sender=borrower)
    assert tx.events.filter(lines.CreditLineRestored) == [
        lines.CreditLineRestored(borrower=borrower.address)
    ]
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    lines.drawToWallet(USD, sender=borrower)


def test_write_off_lowers_share_price_and_recovery_raises_it(
    lines: Any, vault: Any, admin: Any, borrower: Any, lender: Any, drawn: Any, chain: Any
) -> None:
    chain.pending_timestamp = drawn.timestamp + TIER.term + Rules().default_after + 1
    shares = int(vault.balanceOf(lender))
    claim = int(vault.convertToAssets(shares))
    tx = lines.writeOff(borrower, sender=admin)
    assert tx.events.filter(lines.CreditLineWrittenOff) == [
        lines.CreditLineWrittenOff(borrower=borrower.address, principal=PRINCIPAL)
    ]
    assert tx.events.filter(vault.LossRecognized)[0].principal == PRINCIPAL
    assert vault.lentAssets() == 0
    assert vault.totalLosses() == PRINCIPAL
    after_loss = int(vault.convertToAssets(shares))
    assert claim - PRINCIPAL - 1 <= after_loss <= claim - PRINCIPAL
    # The debt is still owed; no interest accrues on a written-off line.
    debt = int(lines.debtOf(borrower))
    chain.pending_timestamp += 30 * DAY
    chain.mine()
    assert lines.debtOf(borrower) == debt
    tx = lines.repay(borrower, debt, sender=borrower)
    assert tx.events.filter(vault.RepaymentReceived)[0].principal == 0
    assert tx.events.filter(vault.RepaymentReceived)[0].income == debt
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE
    # A recovery is income: it reaches the share price as it unlocks.
    assert vault.convertToAssets(shares) == after_loss
    chain.pending_timestamp = tx.timestamp + 7 * DAY
    chain.mine()
    assert vault.convertToAssets(shares) > claim


def test_write_off_reverts_for_line_not_defaulted(
    lines: Any, admin: Any, borrower: Any, drawn: Any
) -> None:
    with ape.reverts(
        lines.CreditLineNotDefaulted, borrower=borrower.address, status=LineStatus.ACTIVE
    ):
        lines.writeOff(borrower, sender=admin)


def test_write_off_reverts_without_risk_role(lines: Any, borrower: Any, drawn: Any) -> None:
    with ape.reverts(
        lines.AccessControlUnauthorizedAccount,
        account=borrower.address,
        neededRole=lines.RISK_ROLE(),
    ):
        lines.writeOff(borrower, sender=borrower)


def test_repayment_works_while_pool_paused(
    lines: Any, vault: Any, admin: Any, borrower: Any, drawn: Any
) -> None:
    vault.pause(sender=admin)
    lines.repay(borrower, 100 * USD, sender=borrower)
    assert vault.lentAssets() < PRINCIPAL
