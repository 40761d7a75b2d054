"""The credit lines' pause (the admin's, as on the registry, the escrow and the vault): it stops
new credit — applications and draws — and nothing that lowers a debt or recognises a loss:
repayments, refund settlements, accruals (the public impairment rule) and write-offs go on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.credit.helpers import DEFAULT_TIERS, USD, LineStatus, Rules, reverts

TIER = DEFAULT_TIERS[2]


@pytest.fixture
def approved(lines: Any, attest: Any, borrower: Any) -> Any:
    """The borrower's band-2 line, approved before any pause."""
    return lines.applyForCredit(*attest(band=2).args, sender=borrower)


@pytest.fixture
def paused(lines: Any, admin: Any) -> Any:
    tx = lines.pause(sender=admin)
    assert tx.events == [lines.Paused(account=admin.address)]
    assert lines.paused()
    return lines


# ------------------------------------------------------------------ who pauses


@pytest.mark.parametrize("who", ["shopper", "borrower", "lender"])
def test_only_the_admin_pauses_and_unpauses(
    lines: Any, admin: Any, who: str, request: pytest.FixtureRequest
) -> None:
    account = request.getfixturevalue(who)
    admin_role = lines.DEFAULT_ADMIN_ROLE()
    with reverts(
        lines.AccessControlUnauthorizedAccount, account=account.address, neededRole=admin_role
    ):
        lines.pause(sender=account)
    assert not lines.paused()

    lines.pause(sender=admin)
    with reverts(
        lines.AccessControlUnauthorizedAccount, account=account.address, neededRole=admin_role
    ):
        lines.unpause(sender=account)
    assert lines.paused()


def test_the_policy_and_risk_roles_cannot_pause(lines: Any, admin: Any, shopper: Any) -> None:
    """Pausing is the admin's, not the roles the admin hands out."""
    lines.grantRole(lines.POLICY_ROLE(), shopper, sender=admin)
    lines.grantRole(lines.RISK_ROLE(), shopper, sender=admin)
    with reverts(lines.AccessControlUnauthorizedAccount, account=shopper.address):
        lines.pause(sender=shopper)


def test_pausing_twice_or_unpausing_an_unpaused_line_is_refused(lines: Any, admin: Any) -> None:
    with reverts(lines.ExpectedPause):
        lines.unpause(sender=admin)
    lines.pause(sender=admin)
    with reverts(lines.EnforcedPause):
        lines.pause(sender=admin)


# ------------------------------------------------------------------ what the pause stops


def test_pause_refuses_applications_and_the_attestation_stays_unspent(
    paused: Any, admin: Any, attestations: Any, attest: Any, borrower: Any, shopper: Any
) -> None:
    lines = paused
    signed = attest(band=2)
    with reverts(lines.EnforcedPause):
        lines.applyForCredit(*signed.args, sender=borrower)
    with reverts(lines.EnforcedPause):
        lines.applyForCredit(*signed.args, sender=shopper)
    assert not attestations.isNonceUsed(signed.attestation.nonce)
    assert lines.lineOf(borrower).status == LineStatus.NONE

    tx = lines.unpause(sender=admin)

    assert tx.events == [lines.Unpaused(account=admin.address)]
    approved = lines.applyForCredit(*signed.args, sender=borrower)
    assert approved.events.filter(lines.CreditApproved)
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE


def test_pause_refuses_every_draw(
    lines: Any,
    admin: Any,
    vault: Any,
    stable: Any,
    borrower: Any,
    approved: Any,
    credit_terms: Any,
) -> None:
    lines.pause(sender=admin)
    terms = credit_terms(250 * USD)
    lent = int(vault.lentAssets())

    with reverts(lines.EnforcedPause):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    with reverts(lines.EnforcedPause):
        lines.drawToOrderWithDownPayment(terms.as_abi(), 50 * USD, sender=borrower)
    with reverts(lines.EnforcedPause):
        lines.drawToWallet(100 * USD, sender=borrower)

    assert lines.lineOf(borrower).principal == 0
    assert vault.lentAssets() == lent
    # Lifted, the same order is paid with credit.
    lines.unpause(sender=admin)
    lines.drawToOrder(terms.as_abi(), sender=borrower)
    assert lines.lineOf(borrower).principal == 250 * USD


# ------------------------------------------------------------------ what goes on


def test_repayment_goes_on_while_paused(
    lines: Any, admin: Any, vault: Any, borrower: Any, approved: Any
) -> None:
    lines.drawToWallet(400 * USD, sender=borrower)
    lines.pause(sender=admin)

    tx = lines.repay(borrower, 1_000 * USD, sender=borrower)

    repaid = tx.events.filter(lines.CreditRepaid)[0]
    assert repaid.principal == 400 * USD
    assert lines.debtOf(borrower) == 0
    assert vault.lentAssets() == 0
    # The pause still refuses new credit on the repaid line.
    with reverts(lines.EnforcedPause):
        lines.drawToWallet(1 * USD, sender=borrower)


def test_settle_refund_goes_on_while_paused(
    lines: Any,
    admin: Any,
    escrow: Any,
    stable: Any,
    borrower: Any,
    shopper: Any,
    approved: Any,
    draw_order: Any,
) -> None:
    terms, _ = draw_order(250 * USD)
    escrow.cancel(terms.as_abi(), sender=borrower)
    lines.pause(sender=admin)

    tx = lines.settleRefund(terms.as_abi(), sender=shopper)

    settled = tx.events.filter(lines.CreditRefundSettled)[0]
    assert (settled.orderId, settled.borrower, settled.refund) == (
        terms.order_id,
        borrower.address,
        250 * USD,
    )
    assert lines.refundOf(terms.as_abi()) == 0
    assert escrow.creditOf(lines, stable) == 0


def test_accrue_impairs_and_defaults_while_paused_and_the_risk_key_writes_off(
    lines: Any,
    admin: Any,
    vault: Any,
    borrower: Any,
    shopper: Any,
    approved: Any,
    chain: Any,
) -> None:
    drawn = lines.drawToWallet(1_000 * USD, sender=borrower)
    lines.pause(sender=admin)

    chain.pending_timestamp = drawn.timestamp + TIER.term + TIER.grace_period + 1
    late = lines.accrue(borrower, sender=shopper)

    assert late.events.filter(lines.CreditLateFeeCharged)[0].fee == TIER.late_fee
    assert vault.impairedAssets() == 1_000 * USD

    chain.pending_timestamp = drawn.timestamp + TIER.term + Rules().default_after + 1
    defaulted = lines.accrue(borrower, sender=shopper)
    assert defaulted.events.filter(lines.CreditLineDefaulted)
    assert lines.lineOf(borrower).status == LineStatus.DEFAULTED

    written = lines.writeOff(borrower, sender=admin)
    assert written.events.filter(lines.CreditLineWrittenOff)[0].principal == 1_000 * USD
    assert lines.lineOf(borrower).status == LineStatus.WRITTEN_OFF
    assert vault.totalLosses() == 1_000 * USD
