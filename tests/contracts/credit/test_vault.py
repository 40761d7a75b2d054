"""CreditVault: ERC-4626 shares, exits only through the queue (no withdraw, no synchronous
previews), pause, and the line-only entry points with their bounds."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.conftest import POOL_DEPOSIT
from tests.contracts.credit.helpers import DAY, USD

SHARES_PER_USD = 10**6 * 10**6  # 6 decimals of the stablecoin, and the vault's offset of 6


@pytest.fixture
def lent(lines: Any, attest: Any, borrower: Any) -> int:
    """1,000 USD drawn to the borrower's wallet; returns the amount."""
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    lines.drawToWallet(1_000 * USD, sender=borrower)
    return 1_000 * USD


def test_vault_shares_have_a_decimals_offset(vault: Any, lines: Any, lender: Any) -> None:
    assert vault.decimals() == 12
    assert vault.balanceOf(lender) == POOL_DEPOSIT * 10**6
    assert vault.totalAssets() == POOL_DEPOSIT


def test_first_deposit_inflation_attack_does_not_pay(
    project: Any, admin: Any, stable: Any, lender: Any, shopper: Any
) -> None:
    """An attacker mints 1 share unit and donates a large sum: the victim still gets its due."""
    fresh = project.CreditVault.deploy(stable, admin, sender=admin)
    for account in (lender, shopper):
        stable.mint(account, 20_000 * USD, sender=account)
        stable.approve(fresh, 2**256 - 1, sender=account)
    fresh.deposit(1, shopper, sender=shopper)
    stable.transfer(fresh, 10_000 * USD, sender=shopper)
    fresh.deposit(10_000 * USD, lender, sender=lender)
    victim = int(fresh.convertToAssets(fresh.balanceOf(lender)))
    assert victim >= 10_000 * USD - 10_000 * USD // 10**6 - 1


def test_withdraw_reverts_lenders_leave_through_the_queue(
    vault: Any, lines: Any, lender: Any
) -> None:
    assert vault.maxWithdraw(lender) == 0
    with ape.reverts(vault.CreditPoolRedeemOnly):
        vault.withdraw(USD, lender, lender, sender=lender)
    # No request, nothing to claim: redeem is the claim of a queued request, not an exit.
    assert vault.maxRedeem(lender) == 0
    with ape.reverts(
        vault.CreditPoolNotClaimable,
        controller=lender.address,
        shares=SHARES_PER_USD,
        claimableShares=0,
        claimableAt=0,
    ):
        vault.redeem(SHARES_PER_USD, lender, lender, sender=lender)
    assert vault.balanceOf(lender) == POOL_DEPOSIT * 10**6


def test_synchronous_previews_revert(vault: Any, lines: Any) -> None:
    """An asynchronous exit has no synchronous price (ERC-7540); deposits keep theirs."""
    with ape.reverts(vault.CreditPoolAsyncRedeem):
        vault.previewRedeem(SHARES_PER_USD)
    with ape.reverts(vault.CreditPoolAsyncRedeem):
        vault.previewWithdraw(USD)
    assert vault.previewDeposit(USD) == SHARES_PER_USD
    assert vault.previewMint(SHARES_PER_USD) == USD


def test_interest_raises_share_price_once_unlocked(
    lines: Any, vault: Any, lender: Any, borrower: Any, lent: int, travel: Any, chain: Any
) -> None:
    shares = int(vault.balanceOf(lender))
    before = int(vault.convertToAssets(shares))
    travel(30 * DAY)
    repaid = lines.repay(borrower, 10 * lent, sender=borrower).events.filter(lines.CreditRepaid)[0]
    assert repaid.principal == lent
    interest = int(repaid.interest)
    assert interest > 0
    assert vault.totalAssets() == POOL_DEPOSIT
    travel(7 * DAY)
    chain.mine()
    assert vault.totalAssets() == POOL_DEPOSIT + interest
    assert before + interest - 1 <= vault.convertToAssets(shares) <= before + interest


def test_pause_stops_deposits_and_claims_but_not_requests(
    vault: Any, admin: Any, lender: Any, lines: Any, chain: Any
) -> None:
    vault.requestRedeem(SHARES_PER_USD, lender, lender, sender=lender)
    chain.pending_timestamp += 3 * DAY
    vault.pause(sender=admin)
    chain.mine()
    assert (vault.maxDeposit(lender), vault.maxMint(lender)) == (0, 0)
    assert (vault.maxWithdraw(lender), vault.maxRedeem(lender)) == (0, 0)
    assert vault.claimableRedeemRequest(0, lender) == SHARES_PER_USD
    with ape.reverts(vault.EnforcedPause):
        vault.deposit(USD, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.mint(SHARES_PER_USD, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.redeem(SHARES_PER_USD, lender, lender, sender=lender)
    vault.requestRedeem(SHARES_PER_USD, lender, lender, sender=lender)
    vault.unpause(sender=admin)
    deposit = vault.deposit(USD, lender, sender=lender)
    assert deposit.events.filter(vault.Deposit)[0].assets == USD


def test_only_admin_pauses(vault: Any, lender: Any) -> None:
    with ape.reverts(
        vault.AccessControlUnauthorizedAccount,
        account=lender.address,
        neededRole=vault.DEFAULT_ADMIN_ROLE(),
    ):
        vault.pause(sender=lender)


def test_line_entry_points_need_line_role(vault: Any, lender: Any, lines: Any) -> None:
    role = vault.LINE_ROLE()
    calls = (
        lambda: vault.lend(lender, USD, sender=lender),
        lambda: vault.recordRepayment(0, USD, 0, sender=lender),
        lambda: vault.recordImpairment(0, sender=lender),
        lambda: vault.recordLoss(0, sender=lender),
    )
    for call in calls:
        with ape.reverts(
            vault.AccessControlUnauthorizedAccount, account=lender.address, neededRole=role
        ):
            call()


def test_line_records_are_bounded_by_what_is_lent_and_impaired(
    vault: Any, stable: Any, admin: Any, accounts: Any, lines: Any
) -> None:
    """A line (here an account given LINE_ROLE) cannot repay, impair or write off more than is lent,
    nor recover or write off more than is impaired."""
    line = accounts[4]
    vault.grantRole(vault.LINE_ROLE(), line, sender=admin)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=0, principal=1):
        vault.recordLoss(1, sender=line)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=0, principal=1):
        vault.recordRepayment(1, 0, 0, sender=line)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=0, principal=1):
        vault.recordImpairment(1, sender=line)
    vault.lend(line, 100 * USD, sender=line)
    vault.recordImpairment(60 * USD, sender=line)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=100 * USD, principal=101 * USD):
        vault.recordImpairment(41 * USD, sender=line)
    # The impaired part of a repayment is part of its principal, and at most what is impaired.
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=10 * USD, principal=11 * USD):
        vault.recordRepayment(10 * USD, 0, 11 * USD, sender=line)
    with ape.reverts(
        vault.CreditPoolPrincipalExceedsImpaired, impaired=60 * USD, principal=70 * USD
    ):
        vault.recordRepayment(70 * USD, 0, 70 * USD, sender=line)
    with ape.reverts(
        vault.CreditPoolPrincipalExceedsImpaired, impaired=60 * USD, principal=61 * USD
    ):
        vault.recordLoss(61 * USD, sender=line)
    vault.recordLoss(60 * USD, sender=line)
    assert (vault.lentAssets(), vault.impairedAssets(), vault.totalLosses()) == (
        40 * USD,
        0,
        60 * USD,
    )
