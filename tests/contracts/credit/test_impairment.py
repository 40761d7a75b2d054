"""The pool's books over a loan's life: the late fee impairs a line's principal in the vault at
once (anyone may trigger it with `accrue`), income and recovered impaired principal unlock
linearly over INCOME_UNLOCK_PERIOD, and a write-off of an impaired line moves nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.credit.conftest import POOL_DEPOSIT, wire_lines
from tests.contracts.credit.helpers import DAY, DEFAULT_TIERS, USD, Rules, Standing, Tier

TIER = DEFAULT_TIERS[2]
PRINCIPAL = 1_000 * USD
UNLOCK = 7 * DAY


@pytest.fixture
def drawn(lines: Any, attest: Any, borrower: Any) -> Any:
    """The borrower's band-2 line with 1,000 USD drawn to the wallet; returns the draw receipt."""
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    return lines.drawToWallet(PRINCIPAL, sender=borrower)


@pytest.fixture
def impaired(lines: Any, borrower: Any, shopper: Any, drawn: Any, chain: Any) -> Any:
    """The line one second past due + grace, its late fee charged by a stranger's `accrue`."""
    chain.pending_timestamp = drawn.timestamp + TIER.term + TIER.grace_period + 1
    return lines.accrue(borrower, sender=shopper)


def _at(chain: Any, timestamp: int) -> None:
    """Mines a block at `timestamp`, so views read the books as of then."""
    chain.pending_timestamp = timestamp
    chain.mine()


def _unlocked(amount: int, elapsed: int) -> int:
    """How much of `amount`, locked `elapsed` seconds ago, counts in the assets (mulDiv floor of
    what is still locked)."""
    return amount - amount * max(UNLOCK - elapsed, 0) // UNLOCK


# ------------------------------------------------------------------ impairment


def test_accrue_by_anyone_past_due_and_grace_impairs_the_principal_at_once(
    lines: Any, vault: Any, borrower: Any, lender: Any, shopper: Any, drawn: Any, chain: Any
) -> None:
    deadline = drawn.timestamp + TIER.term + TIER.grace_period
    chain.pending_timestamp = deadline
    tx = lines.accrue(borrower, sender=shopper)
    assert not tx.events.filter(lines.CreditLateFeeCharged)
    assert vault.impairedAssets() == 0
    # The view shows the fee due a second later; the vault's books move only at a touch.
    _at(chain, deadline + 1)
    assert lines.lineOf(borrower).fees == TIER.late_fee
    assert vault.impairedAssets() == 0
    assets = int(vault.totalAssets())
    claim = int(vault.convertToAssets(vault.balanceOf(lender)))

    tx = lines.accrue(borrower, sender=shopper)

    assert tx.events.filter(lines.CreditLateFeeCharged)[0].fee == TIER.late_fee
    assert tx.events.filter(vault.PrincipalImpaired) == [
        vault.PrincipalImpaired(line=lines.address, principal=PRINCIPAL)
    ]
    assert vault.impairedAssets() == PRINCIPAL
    assert vault.lentAssets() == PRINCIPAL
    assert vault.totalAssets() == assets - PRINCIPAL
    assert vault.convertToAssets(vault.balanceOf(lender)) <= claim - PRINCIPAL
    assert lines.lineOf(borrower).standing == Standing.PAST_DUE
    # Once per cycle: a later touch impairs nothing more.
    tx = lines.accrue(borrower, sender=shopper)
    assert not tx.events.filter(vault.PrincipalImpaired)
    assert vault.impairedAssets() == PRINCIPAL


def test_any_touch_of_the_line_impairs_it(
    lines: Any, vault: Any, borrower: Any, drawn: Any, chain: Any
) -> None:
    """A repayment past due + grace charges the fee and impairs before it applies."""
    chain.pending_timestamp = drawn.timestamp + TIER.term + TIER.grace_period + 1
    tx = lines.repay(borrower, TIER.late_fee, sender=borrower)
    assert tx.events.filter(vault.PrincipalImpaired)[0].principal == PRINCIPAL
    assert tx.events.filter(lines.CreditRepaid)[0].fees == TIER.late_fee
    assert vault.impairedAssets() == PRINCIPAL


def test_repaid_impaired_principal_returns_to_the_assets_gradually(
    lines: Any, vault: Any, borrower: Any, impaired: Any, chain: Any
) -> None:
    assets = int(vault.totalAssets())
    owed = lines.lineOf(borrower)
    chain.pending_timestamp = impaired.timestamp + 60
    interest = int(owed.interest) + _interest_for(60)
    tx = lines.repay(borrower, TIER.late_fee + interest + 400 * USD, sender=borrower)
    received = tx.events.filter(vault.RepaymentReceived)[0]
    assert (received.principal, received.income) == (400 * USD, TIER.late_fee + interest)
    locked = 400 * USD + TIER.late_fee + interest
    assert tx.events.filter(vault.IncomeLocked)[0].amount == locked
    assert vault.impairedAssets() == PRINCIPAL - 400 * USD
    # Nothing counts at once; then the recovered principal and the income unlock linearly.
    assert vault.lockedIncome() == locked
    assert vault.totalAssets() == assets
    for elapsed in (DAY, UNLOCK // 2, UNLOCK - 1, UNLOCK, UNLOCK + DAY):
        _at(chain, tx.timestamp + elapsed)
        assert vault.totalAssets() == assets + _unlocked(locked, elapsed)
    assert vault.lockedIncome() == 0


def _interest_for(seconds: int) -> int:
    numerator = PRINCIPAL * TIER.apr_bps * seconds
    return -(-numerator // (10_000 * 365 * DAY))


def test_write_off_of_an_impaired_line_leaves_total_assets_unchanged(
    lines: Any, vault: Any, admin: Any, borrower: Any, drawn: Any, impaired: Any, chain: Any
) -> None:
    assets = int(vault.totalAssets())
    chain.pending_timestamp = drawn.timestamp + TIER.term + Rules().default_after + 1
    tx = lines.writeOff(borrower, sender=admin)
    assert tx.events.filter(lines.CreditLineDefaulted)
    assert tx.events.filter(vault.LossRecognized)[0].principal == PRINCIPAL
    assert vault.totalAssets() == assets
    assert (vault.lentAssets(), vault.impairedAssets(), vault.totalLosses()) == (0, 0, PRINCIPAL)


def test_refund_of_an_impaired_order_draw_recovers_its_principal(
    lines: Any,
    vault: Any,
    escrow: Any,
    borrower: Any,
    merchant: Any,
    shopper: Any,
    draw_order: Any,
    attest: Any,
    chain: Any,
) -> None:
    """A refund settled to an impaired line repays impaired principal: it leaves the impaired
    total and unlocks like a repayment."""
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    terms, tx = draw_order(500 * USD)
    chain.pending_timestamp = tx.timestamp + TIER.term + TIER.grace_period + 1
    lines.accrue(borrower, sender=shopper)
    assert vault.impairedAssets() == 500 * USD
    escrow.cancel(terms.as_abi(), sender=merchant)
    settled = lines.settleRefund(terms.as_abi(), sender=shopper)
    repaid = settled.events.filter(lines.CreditRepaid)[0]
    received = settled.events.filter(vault.RepaymentReceived)[0]
    assert received.principal == repaid.principal
    assert vault.impairedAssets() == 500 * USD - repaid.principal
    assert vault.lockedIncome() == repaid.principal + repaid.fees + repaid.interest


# ------------------------------------------------------------------ income unlocking


def test_interest_raises_total_assets_linearly_over_seven_days(
    lines: Any, vault: Any, borrower: Any, drawn: Any, travel: Any, chain: Any
) -> None:
    travel(10 * DAY)
    tx = lines.repay(borrower, 10 * PRINCIPAL, sender=borrower)
    interest = int(tx.events.filter(lines.CreditRepaid)[0].interest)
    assert interest > 0
    assert tx.events.filter(vault.IncomeLocked) == [
        vault.IncomeLocked(amount=interest, lockedTotal=interest, unlockedAt=tx.timestamp + UNLOCK)
    ]
    assert vault.totalAssets() == POOL_DEPOSIT
    previous = POOL_DEPOSIT
    for elapsed in (1, DAY, 2 * DAY, UNLOCK // 2, 6 * DAY, UNLOCK - 1, UNLOCK):
        _at(chain, tx.timestamp + elapsed)
        assets = int(vault.totalAssets())
        assert assets == POOL_DEPOSIT + _unlocked(interest, elapsed)
        assert assets >= previous
        previous = assets
    assert previous == POOL_DEPOSIT + interest


def test_new_income_joins_what_is_still_locked_and_restarts_the_unlock(
    lines: Any, vault: Any, borrower: Any, drawn: Any, travel: Any, chain: Any
) -> None:
    travel(10 * DAY)
    first = lines.repay(borrower, 100 * USD, sender=borrower)
    income = int(first.events.filter(vault.RepaymentReceived)[0].income)
    chain.pending_timestamp = first.timestamp + 2 * DAY
    second = lines.repay(borrower, 100 * USD, sender=borrower)
    more = int(second.events.filter(vault.RepaymentReceived)[0].income)
    still = income - _unlocked(income, 2 * DAY)
    assert second.events.filter(vault.IncomeLocked) == [
        vault.IncomeLocked(
            amount=more, lockedTotal=still + more, unlockedAt=second.timestamp + UNLOCK
        )
    ]
    _at(chain, first.timestamp + UNLOCK)
    assert vault.lockedIncome() > 0
    _at(chain, second.timestamp + UNLOCK)
    assert vault.lockedIncome() == 0
    assert vault.totalAssets() == POOL_DEPOSIT + income + more


def test_a_deposit_just_before_a_repayment_cannot_take_its_income(
    lines: Any,
    vault: Any,
    stable: Any,
    borrower: Any,
    other_lender: Any,
    drawn: Any,
    travel: Any,
    chain: Any,
) -> None:
    """Sandwich: deposit half the pool, let a large repayment land, queue the exit at once. The exit
    pays the shares' value at the request, when the income had barely begun to unlock: the
    deposit back and the share of what unlocked in between, not half the interest."""
    stable.mint(other_lender, POOL_DEPOSIT, sender=other_lender)
    stable.approve(vault, POOL_DEPOSIT, sender=other_lender)
    travel(20 * DAY)
    vault.deposit(POOL_DEPOSIT, other_lender, sender=other_lender)
    repay = lines.repay(borrower, 10 * PRINCIPAL, sender=borrower)
    interest = int(repay.events.filter(lines.CreditRepaid)[0].interest)
    shares = int(vault.balanceOf(other_lender))
    request = vault.requestRedeem(shares, other_lender, other_lender, sender=other_lender)
    _at(chain, request.timestamp + UNLOCK)
    tx = vault.redeem(shares, other_lender, other_lender, sender=other_lender)
    gain = int(tx.events.filter(vault.Withdraw)[0].assets) - POOL_DEPOSIT
    assert gain <= _unlocked(interest, request.timestamp - repay.timestamp)
    assert gain < interest // 10_000
    assert stable.balanceOf(other_lender) == POOL_DEPOSIT + gain


def test_a_loss_is_set_against_income_still_unlocking_first(
    project: Any,
    admin: Any,
    attestations: Any,
    escrow: Any,
    stable: Any,
    lender: Any,
    borrower: Any,
    other_borrower: Any,
    shopper: Any,
    attest: Any,
    chain: Any,
) -> None:
    """A small pool lends everything; the first loan is repaid late (its impaired principal comes
    back locked), the cash is lent again and that loan is impaired too. The new loss eats the
    income still unlocking before it touches the share price, so impaired plus locked never exceed
    what the vault holds (totalAssets needs no floor, and a deposit after the loss cannot collect
    income that unlocks later); the vault keeps working."""
    pool = project.CreditVault.deploy(stable, admin, sender=admin)
    credit = wire_lines(project, admin, attestations, pool, escrow)
    minute_loans = Tier(5_000 * USD, 3_600, 60, 0, USD)
    credit.publishPolicy(Rules().as_abi(), [minute_loans.as_abi()] * 2, sender=admin)
    stable.mint(lender, 1_000 * USD, sender=lender)
    stable.approve(pool, 1_000 * USD, sender=lender)
    pool.deposit(1_000 * USD, lender, sender=lender)
    for who in (borrower, other_borrower):
        # Their own money for the interest: the session's credit lines fixture, which funds
        # them too, may not have run before this test.
        stable.mint(who, 100 * USD, sender=who)
        stable.approve(credit, 10_000 * USD, sender=who)
        credit.applyForCredit(*attest(who=who, band=1).args, sender=who)
    credit.drawToWallet(1_000 * USD, sender=borrower)
    chain.pending_timestamp += 3_600
    credit.repay(borrower, 2_000 * USD, sender=borrower)
    locked_before = int(pool.lockedIncome())
    assert locked_before > 0
    credit.drawToWallet(pool.idleAssets(), sender=other_borrower)
    chain.pending_timestamp += 120
    receipt = credit.accrue(other_borrower, sender=shopper)
    impaired = int(pool.impairedAssets())
    assert impaired == pool.lentAssets() > 0
    assert pool.idleAssets() == 0
    [absorbed] = receipt.decode_logs(pool.LockedIncomeAbsorbed)
    assert int(absorbed.amount) == min(impaired, int(absorbed.amount) + int(absorbed.lockedTotal))
    assert int(absorbed.lockedTotal) <= max(0, locked_before - impaired)
    locked = int(pool.lockedIncome())
    assert locked <= int(absorbed.lockedTotal)
    assert impaired + locked <= pool.idleAssets() + pool.lentAssets()
    assert pool.totalAssets() == pool.idleAssets() + pool.lentAssets() - impaired - locked
    # Repayments and exits keep working.
    credit.repay(other_borrower, 100 * USD, sender=other_borrower)
    pool.requestRedeem(pool.balanceOf(lender), lender, lender, sender=lender)
