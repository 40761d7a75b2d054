"""The vault's redemption queue (ERC-7540 style): a request locks shares in the vault; after the
cooldown the controller claims the lower of their value at the request and now; cash owed to
queued requests is not lent; the admin sets the cooldown within bounds."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.conftest import POOL_DEPOSIT
from tests.contracts.credit.helpers import DAY, DEFAULT_TIERS, USD, reverts

COOLDOWN = 3 * DAY
TIER = DEFAULT_TIERS[2]


@pytest.fixture
def shares(vault: Any, lines: Any, lender: Any) -> int:
    """A tenth of the lender's shares: 100,000 USD worth."""
    return int(vault.balanceOf(lender)) // 10


@pytest.fixture
def requested(vault: Any, lender: Any, shares: int) -> Any:
    """The lender has queued `shares` for itself; returns the receipt."""
    return vault.requestRedeem(shares, lender, lender, sender=lender)


def _at(chain: Any, timestamp: int) -> None:
    chain.pending_timestamp = timestamp
    chain.mine()


def test_request_locks_the_shares_in_the_vault(
    vault: Any, lender: Any, shares: int, requested: Any
) -> None:
    value = POOL_DEPOSIT // 10
    assert requested.events.filter(vault.RedeemRequest) == [
        vault.RedeemRequest(
            controller=lender.address,
            owner=lender.address,
            requestId=0,
            sender=lender.address,
            shares=shares,
        )
    ]
    assert vault.balanceOf(lender) == 9 * shares
    assert vault.balanceOf(vault) == shares
    assert tuple(vault.redeemRequestOf(lender)) == (
        shares,
        value,
        requested.timestamp + COOLDOWN,
    )
    assert vault.queuedAssets() == value
    assert vault.pendingRedeemRequest(0, lender) == shares
    assert vault.claimableRedeemRequest(0, lender) == 0
    assert vault.maxRedeem(lender) == 0
    # Queued shares are no longer the lender's to move.
    with ape.reverts(vault.ERC20InsufficientBalance):
        vault.transfer(vault, 9 * shares + 1, sender=lender)


def test_claim_is_refused_before_the_cooldown_and_allowed_at_its_end(
    vault: Any, stable: Any, lender: Any, shares: int, requested: Any, chain: Any
) -> None:
    claimable_at = requested.timestamp + COOLDOWN
    chain.pending_timestamp = claimable_at - 1
    with ape.reverts(
        vault.CreditPoolNotClaimable,
        controller=lender.address,
        shares=shares,
        claimableShares=0,
        claimableAt=claimable_at,
    ):
        vault.redeem(shares, lender, lender, sender=lender)
    _at(chain, claimable_at)
    assert vault.pendingRedeemRequest(0, lender) == 0
    assert vault.claimableRedeemRequest(0, lender) == shares
    assert vault.maxRedeem(lender) == shares
    with ape.reverts(
        vault.CreditPoolNotClaimable,
        controller=lender.address,
        shares=shares + 1,
        claimableShares=shares,
    ):
        vault.redeem(shares + 1, lender, lender, sender=lender)
    wallet = int(stable.balanceOf(lender))
    tx = vault.redeem(shares, lender, lender, sender=lender)
    assert tx.events.filter(vault.Withdraw)[0].assets == POOL_DEPOSIT // 10
    assert stable.balanceOf(lender) == wallet + POOL_DEPOSIT // 10
    assert vault.balanceOf(vault) == 0
    assert vault.queuedAssets() == 0
    assert tuple(vault.redeemRequestOf(lender)) == (0, 0, claimable_at)


def test_only_the_controller_claims(
    vault: Any, lender: Any, other_lender: Any, shares: int, requested: Any, chain: Any
) -> None:
    _at(chain, requested.timestamp + COOLDOWN)
    with ape.reverts(
        vault.CreditPoolNotController, caller=other_lender.address, controller=lender.address
    ):
        vault.redeem(shares, other_lender, lender, sender=other_lender)
    # The controller may send the assets elsewhere.
    tx = vault.redeem(shares, other_lender, lender, sender=lender)
    assert tx.events.filter(vault.Withdraw)[0].receiver == other_lender.address


def test_a_request_for_another_controller_spends_the_owners_allowance(
    vault: Any, lender: Any, other_lender: Any, shopper: Any, shares: int, chain: Any
) -> None:
    with ape.reverts(vault.ERC20InsufficientAllowance):
        vault.requestRedeem(shares, other_lender, lender, sender=shopper)
    vault.approve(shopper, shares, sender=lender)
    tx = vault.requestRedeem(shares, other_lender, lender, sender=shopper)
    assert vault.allowance(lender, shopper) == 0
    assert vault.redeemRequestOf(other_lender)[0] == shares
    assert vault.redeemRequestOf(lender)[0] == 0
    _at(chain, tx.timestamp + COOLDOWN)
    vault.redeem(shares, other_lender, other_lender, sender=other_lender)


def test_requests_add_up_and_restart_the_cooldown(
    vault: Any, lender: Any, shares: int, requested: Any, chain: Any
) -> None:
    chain.pending_timestamp = requested.timestamp + 2 * DAY
    again = vault.requestRedeem(shares, lender, lender, sender=lender)
    assert tuple(vault.redeemRequestOf(lender)) == (
        2 * shares,
        2 * POOL_DEPOSIT // 10,
        again.timestamp + COOLDOWN,
    )
    _at(chain, requested.timestamp + COOLDOWN)
    assert vault.maxRedeem(lender) == 0


def test_claims_may_be_partial(
    vault: Any, lender: Any, shares: int, requested: Any, chain: Any
) -> None:
    _at(chain, requested.timestamp + COOLDOWN)
    first = vault.redeem(shares // 4, lender, lender, sender=lender)
    assert first.events.filter(vault.Withdraw)[0].assets == POOL_DEPOSIT // 40
    assert vault.redeemRequestOf(lender)[:2] == (shares - shares // 4, POOL_DEPOSIT * 3 // 40)
    assert vault.queuedAssets() == POOL_DEPOSIT * 3 // 40
    vault.redeem(shares - shares // 4, lender, lender, sender=lender)
    assert vault.queuedAssets() == 0


# ------------------------------------------------------------------ what a claim pays


def test_claim_pays_the_value_at_request_when_the_shares_gained_since(
    lines: Any,
    vault: Any,
    lender: Any,
    borrower: Any,
    attest: Any,
    travel: Any,
    chain: Any,
) -> None:
    """Queued shares earn nothing more: income that unlocks after the request stays with the
    lenders who remain."""
    lines.applyForCredit(*attest().args, sender=borrower)
    lines.drawToWallet(1_000 * USD, sender=borrower)
    travel(20 * DAY)
    lines.repay(borrower, 2_000 * USD, sender=borrower)
    shares = int(vault.balanceOf(lender)) // 2
    request = vault.requestRedeem(shares, lender, lender, sender=lender)
    at_request = int(vault.redeemRequestOf(lender)[1])
    _at(chain, request.timestamp + COOLDOWN + 7 * DAY)
    now = int(vault.convertToAssets(shares))
    assert now > at_request
    tx = vault.redeem(shares, lender, lender, sender=lender)
    assert tx.events.filter(vault.Withdraw)[0].assets == at_request
    # The rest of the gain is the remaining shares'.
    assert vault.convertToAssets(vault.balanceOf(lender)) > at_request


def test_claim_pays_the_value_now_when_a_loss_became_visible_since(
    lines: Any,
    vault: Any,
    lender: Any,
    borrower: Any,
    shopper: Any,
    attest: Any,
    chain: Any,
) -> None:
    """A request cannot outrun a loss: shares in the queue bear an impairment made before the
    claim."""
    lines.applyForCredit(*attest().args, sender=borrower)
    draw = lines.drawToWallet(2_000 * USD, sender=borrower)
    chain.pending_timestamp = draw.timestamp + TIER.term + TIER.grace_period - DAY
    shares = int(vault.balanceOf(lender)) // 2
    vault.requestRedeem(shares, lender, lender, sender=lender)
    at_request = int(vault.redeemRequestOf(lender)[1])
    chain.pending_timestamp = draw.timestamp + TIER.term + TIER.grace_period + 1
    lines.accrue(borrower, sender=shopper)
    now = int(vault.convertToAssets(shares))
    assert at_request - now >= 999 * USD
    _at(chain, int(vault.redeemRequestOf(lender)[2]))
    tx = vault.redeem(shares, lender, lender, sender=lender)
    assert tx.events.filter(vault.Withdraw)[0].assets == now


# ------------------------------------------------------------------ liquidity


def test_queued_assets_are_not_lent(
    lines: Any, vault: Any, lender: Any, borrower: Any, attest: Any
) -> None:
    lines.applyForCredit(*attest(band=3).args, sender=borrower)
    shares = int(vault.balanceOf(lender))
    keep = 3_000 * USD * 10**6
    vault.requestRedeem(shares - keep, lender, lender, sender=lender)
    assert vault.queuedAssets() == POOL_DEPOSIT - 3_000 * USD
    with reverts(
        vault.CreditPoolInsufficientLiquidity, idle=3_000 * USD, requested=3_000 * USD + 1
    ):
        lines.drawToWallet(3_000 * USD + 1, sender=borrower)
    lines.drawToWallet(3_000 * USD, sender=borrower)
    assert vault.idleAssets() == vault.queuedAssets()


def test_max_redeem_is_what_idle_cash_pays(
    lines: Any, vault: Any, lender: Any, borrower: Any, attest: Any, chain: Any
) -> None:
    """Cash lent before a request is not there to pay it: maxRedeem scales the claimable shares
    down to the idle cash, and a larger claim is refused."""
    lines.applyForCredit(*attest(band=3).args, sender=borrower)
    lines.drawToWallet(5_000 * USD, sender=borrower)
    shares = int(vault.balanceOf(lender))
    request = vault.requestRedeem(shares, lender, lender, sender=lender)
    _at(chain, request.timestamp + COOLDOWN)
    idle = POOL_DEPOSIT - 5_000 * USD
    assert vault.idleAssets() == idle
    most = int(vault.maxRedeem(lender))
    assert most == shares * idle // POOL_DEPOSIT
    with ape.reverts(vault.CreditPoolInsufficientLiquidity, idle=idle):
        vault.redeem(shares, lender, lender, sender=lender)
    vault.redeem(most, lender, lender, sender=lender)
    assert vault.idleAssets() < USD
    lines.repay(borrower, 10_000 * USD, sender=borrower)
    assert vault.maxRedeem(lender) == shares - most


def test_request_and_claim_refuse_zero_and_zero_addresses(
    vault: Any, lender: Any, shares: int, requested: Any, chain: Any
) -> None:
    zero = "0x0000000000000000000000000000000000000000"
    with ape.reverts(vault.CreditPoolZeroShares):
        vault.requestRedeem(0, lender, lender, sender=lender)
    with ape.reverts(vault.CreditPoolZeroAddress):
        vault.requestRedeem(shares, zero, lender, sender=lender)
    _at(chain, requested.timestamp + COOLDOWN)
    with ape.reverts(vault.CreditPoolZeroShares):
        vault.redeem(0, lender, lender, sender=lender)
    with ape.reverts(vault.CreditPoolZeroAddress):
        vault.redeem(shares, zero, lender, sender=lender)


# ------------------------------------------------------------------ the cooldown


def test_cooldown_is_set_by_the_admin_within_bounds(
    vault: Any, admin: Any, lender: Any, shares: int, chain: Any
) -> None:
    assert vault.redeemCooldown() == COOLDOWN
    for bad in (DAY - 1, 30 * DAY + 1, 0):
        with ape.reverts(vault.CreditPoolInvalidCooldown, cooldown=bad):
            vault.setRedeemCooldown(bad, sender=admin)
    for good in (30 * DAY, DAY):
        tx = vault.setRedeemCooldown(good, sender=admin)
        assert tx.events == [vault.RedeemCooldownChanged(cooldown=good)]
    assert vault.redeemCooldown() == DAY
    request = vault.requestRedeem(shares, lender, lender, sender=lender)
    assert vault.redeemRequestOf(lender)[2] == request.timestamp + DAY


def test_only_the_admin_sets_the_cooldown(vault: Any, lender: Any) -> None:
    with ape.reverts(
        vault.AccessControlUnauthorizedAccount,
        account=lender.address,
        neededRole=vault.DEFAULT_ADMIN_ROLE(),
    ):
        vault.setRedeemCooldown(2 * DAY, sender=lender)
    assert vault.redeemCooldown() == COOLDOWN
