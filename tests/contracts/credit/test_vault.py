"""CreditVault: ERC-4626 shares, idle-cash withdrawal limits, pause, and line-only entry points."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.conftest import POOL_DEPOSIT
from tests.contracts.credit.helpers import DAY, USD


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


def test_withdrawals_are_limited_to_idle_cash(vault: Any, lender: Any, lent: int) -> None:
    idle = int(vault.idleAssets())
    assert idle == POOL_DEPOSIT - lent
    assert vault.maxWithdraw(lender) == idle
    assert vault.maxRedeem(lender) <= vault.convertToShares(idle)
    with ape.reverts(
        vault.ERC4626ExceededMaxWithdraw, owner=lender.address, assets=idle + 1, max=idle
    ):
        vault.withdraw(idle + 1, lender, lender, sender=lender)
    vault.withdraw(idle, lender, lender, sender=lender)
    assert vault.idleAssets() == 0
    assert vault.totalAssets() == lent


def test_interest_raises_share_price(
    lines: Any, vault: Any, lender: Any, borrower: Any, lent: int, travel: Any
) -> None:
    shares = int(vault.balanceOf(lender))
    before = int(vault.convertToAssets(shares))
    travel(30 * DAY)
    repaid = lines.repay(borrower, 10 * lent, sender=borrower).events.filter(lines.CreditRepaid)[0]
    assert repaid.principal == lent
    interest = int(repaid.interest)
    assert interest > 0
    assert vault.totalAssets() == POOL_DEPOSIT + interest
    assert before + interest - 1 <= vault.convertToAssets(shares) <= before + interest


def test_pause_stops_deposits_withdrawals_and_reads_zero_maxima(
    vault: Any, admin: Any, lender: Any, lines: Any
) -> None:
    vault.pause(sender=admin)
    assert (vault.maxDeposit(lender), vault.maxMint(lender)) == (0, 0)
    assert (vault.maxWithdraw(lender), vault.maxRedeem(lender)) == (0, 0)
    with ape.reverts(vault.EnforcedPause):
        vault.deposit(USD, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.mint(10**12, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.withdraw(USD, lender, lender, sender=lender)
    with ape.reverts(vault.EnforcedPause):
        vault.redeem(10**12, lender, lender, sender=lender)
    vault.unpause(sender=admin)
    vault.withdraw(USD, lender, lender, sender=lender)


def test_only_admin_pauses(vault: Any, lender: Any) -> None:
    with ape.reverts(vault.AccessControlUnauthorizedAccount, account=lender.address):
        vault.pause(sender=lender)


def test_line_entry_points_need_line_role(vault: Any, lender: Any, lines: Any) -> None:
    role = vault.LINE_ROLE()
    with ape.reverts(
        vault.AccessControlUnauthorizedAccount, account=lender.address, neededRole=role
    ):
        vault.lend(lender, USD, sender=lender)
    with ape.reverts(
        vault.AccessControlUnauthorizedAccount, account=lender.address, neededRole=role
    ):
        vault.recordRepayment(0, USD, sender=lender)
    with ape.reverts(
        vault.AccessControlUnauthorizedAccount, account=lender.address, neededRole=role
    ):
        vault.recordLoss(0, sender=lender)


def test_record_cannot_reduce_lent_below_zero(vault: Any, admin: Any, accounts: Any) -> None:
    """A line (here an account given LINE_ROLE) cannot write off more than is lent out."""
    line = accounts[4]
    vault.grantRole(vault.LINE_ROLE(), line, sender=admin)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=0, principal=1):
        vault.recordLoss(1, sender=line)
    with ape.reverts(vault.CreditPoolPrincipalExceedsLent, lent=0, principal=1):
        vault.recordRepayment(1, 0, sender=line)
