"""Re-entry into the credit vault and the credit lines through a token with transfer hooks.

The suite's credit contracts hold the stablecoin, which has no hooks; an asset that calls the
sender before its tokens leave and the recipient after they arrive (ERC-777 style, HookToken) is
the worst case they could meet. `ape run deploy` never makes one, so a vault of HookToken and lines
over it are deployed here directly, next to the suite's verifier and escrow. The attacker is a
HookAttacker contract acting as lender and borrower (its credit line approved by an attestation),
re-entering from inside its own transfers:

- into the same contract: refused with ReentrancyGuardReentrantCall (vault deposit and claim,
  lines draw and repay);
- across contracts: a draw from inside a vault claim reaches `lend`, which holds the vault's
  lock; a redemption request from inside a draw likewise;
- where a re-entry is allowed (a claim from inside a repayment, the two contracts holding
  separate locks), the books stay exact: the lender is paid its request's value, and the
  repayment's income then unlocks to the remaining shares.

The vault's exits are queued (ERC-7540 style): `requestRedeem` locks shares, `redeem` claims them
after the cooldown; an attacker re-enters from the claim's payout.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_utils.crypto import keccak

from scripts._lib.credit import default_policy
from tests.attacks.conftest import USD, Actors, Suite, attest, register, sku_key
from tests.contracts.escrow.helpers import Terms, h

REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]
MAX_UINT256 = 2**256 - 1
POOL = 10_000 * USD  # an honest lender's deposit
STAKE = 1_000 * USD  # the attacker's own deposit, as a lender
BAND = 2  # the default policy's band 2: a 2,000 USD limit (wallet draws allowed here)
_labels = itertools.count(1)


@dataclass(frozen=True)
class Credit:
    token: Any
    vault: Any
    lines: Any


@pytest.fixture(scope="module")
def credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    """A vault of HookToken and credit lines over it, wired as the deploy script wires the suite's
    (the suite's verifier and escrow, which allows the token); an honest lender funds the pool."""
    admin = actors.admin
    token = project_.HookToken.deploy(sender=admin)
    vault = project_.CreditVault.deploy(token.address, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(
        admin.address, suite.verifier.address, vault.address, suite.escrow.address, sender=admin
    )
    suite.verifier.grantRole(suite.verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    suite.escrow.grantRole(suite.escrow.FUNDER_ROLE(), lines.address, sender=admin)
    suite.escrow.setTokenAllowed(token.address, True, sender=admin)
    lines.grantRole(lines.POLICY_ROLE(), admin.address, sender=admin)
    # The deployment's policy with wallet draws on: the draws below need no order.
    policy = replace(default_policy(6), walletDraws=True)
    lines.publishPolicy(policy.rules_abi(), policy.tiers_abi(), sender=admin)
    lender = actors.rival
    token.mint(lender.address, POOL, sender=lender)
    token.approve(vault.address, POOL, sender=lender)
    vault.deposit(POOL, lender.address, sender=lender)
    return Credit(token, vault, lines)


@pytest.fixture
def attacker(project_: Any, suite: Suite, credit: Credit, actors: Actors, provider: Any) -> Any:
    """A hooked lender and borrower: holds tokens approved to the vault and the lines, has
    deposited STAKE into the pool, and has an approved credit line (band 2, attested by both
    attesters)."""
    attacker = project_.HookAttacker.deploy(sender=actors.admin)
    attacker.listen(credit.token.address, sender=actors.stranger)
    credit.token.mint(attacker.address, 10 * STAKE, sender=actors.stranger)
    for spender in (credit.vault, credit.lines):
        _as(attacker, actors, credit.token, "approve", spender.address, MAX_UINT256)
    _as(attacker, actors, credit.vault, "deposit", STAKE, attacker.address)
    attestation, signatures = attest(suite, provider, attacker.address, band=BAND)
    receipt = credit.lines.applyForCredit(attestation, signatures, sender=actors.stranger)
    assert len(receipt.events.filter(credit.lines.CreditApproved)) == 1
    return attacker


def _as(attacker: Any, actors: Actors, contract: Any, method: str, *args: Any) -> Any:
    """The attacker calls `contract.method(*args)` (through HookAttacker.execute)."""
    data = getattr(contract, method).encode_input(*args)
    return attacker.execute(contract.address, data, sender=actors.stranger)


def _arm(attacker: Any, actors: Actors, contract: Any, method: str, *args: Any) -> None:
    """The attacker's next hook call re-enters `contract.method(*args)`."""
    data = getattr(contract, method).encode_input(*args)
    attacker.arm(contract.address, data, sender=actors.stranger)


def _refused(attacker: Any) -> None:
    assert attacker.attempts() == 1
    assert not attacker.lastSucceeded()
    assert bytes(attacker.lastResult()) == REENTRANT_CALL


def advance(provider: Any, seconds: int) -> None:
    provider.web3.provider.make_request("evm_increaseTime", [seconds])
    provider.web3.provider.make_request("evm_mine", [])


def _principal(credit: Credit, borrower: Any) -> int:
    return int(credit.lines.lineOf(borrower.address).principal)


# ------------------------------------------------------------------ the vault (lender)


def test_lender_reentering_deposit_from_its_payment_is_refused(
    credit: Credit, attacker: Any, actors: Actors
) -> None:
    """`tokensToSend` runs before the deposit's tokens leave: a second deposit there would be priced
    on assets that have not arrived."""
    vault, token = credit.vault, credit.token
    shares_before = int(vault.balanceOf(attacker.address))
    assets_before = int(vault.totalAssets())
    expected = int(vault.previewDeposit(STAKE))
    _arm(attacker, actors, vault, "deposit", STAKE, attacker.address)

    _as(attacker, actors, vault, "deposit", STAKE, attacker.address)

    _refused(attacker)
    assert vault.balanceOf(attacker.address) == shares_before + expected
    assert vault.totalAssets() == assets_before + STAKE
    assert token.balanceOf(vault.address) == vault.idleAssets() == assets_before + STAKE


def _queue(credit: Credit, attacker: Any, actors: Actors, provider: Any, shares: int) -> None:
    """The attacker queues `shares` for redemption and waits out the cooldown."""
    _as(attacker, actors, credit.vault, "requestRedeem", shares, attacker.address, attacker.address)
    advance(provider, int(credit.vault.redeemCooldown()))


def test_lender_reentering_its_claim_from_its_payout_is_refused_and_paid_once(
    credit: Credit, attacker: Any, actors: Actors, provider: Any
) -> None:
    """`tokensReceived` runs once the claim's assets arrived: claiming the rest of the request
    there is refused by the vault's lock."""
    vault, token = credit.vault, credit.token
    shares = int(vault.balanceOf(attacker.address))
    _queue(credit, attacker, actors, provider, shares)
    half = shares // 2
    (_, value, _) = vault.redeemRequestOf(attacker.address)
    paid = int(value) * half // shares
    held = int(token.balanceOf(attacker.address))
    idle = int(vault.idleAssets())
    _arm(attacker, actors, vault, "redeem", shares - half, attacker.address, attacker.address)

    _as(attacker, actors, vault, "redeem", half, attacker.address, attacker.address)

    _refused(attacker)
    assert token.balanceOf(attacker.address) == held + paid
    assert vault.redeemRequestOf(attacker.address)[0] == shares - half
    assert vault.idleAssets() == idle - paid


def test_borrower_reentering_a_draw_from_its_loan_is_refused(
    credit: Credit, attacker: Any, actors: Actors
) -> None:
    """`tokensReceived` runs once the loan arrived: a second draw there is refused by the lines'
    lock (the limit would be checked anyway; the lock refuses before any check)."""
    vault, token, lines = credit.vault, credit.token, credit.lines
    amount = 300 * USD
    lent, held = int(vault.lentAssets()), int(token.balanceOf(attacker.address))
    _arm(attacker, actors, lines, "drawToWallet", amount)

    _as(attacker, actors, lines, "drawToWallet", amount)

    _refused(attacker)
    assert _principal(credit, attacker) == amount
    assert vault.lentAssets() == lent + amount
    assert token.balanceOf(attacker.address) == held + amount


def test_borrower_reentering_the_vault_from_its_loan_is_refused_by_the_vaults_lock(
    credit: Credit, attacker: Any, actors: Actors
) -> None:
    """Across contracts: the loan is paid inside the vault's `lend`, which holds the vault's lock,
    so the borrower (also a lender) cannot queue its shares for redemption from inside it."""
    vault, token, lines = credit.vault, credit.token, credit.lines
    amount = 300 * USD
    shares = int(vault.balanceOf(attacker.address))
    held = int(token.balanceOf(attacker.address))
    _arm(attacker, actors, vault, "requestRedeem", shares, attacker.address, attacker.address)

    _as(attacker, actors, lines, "drawToWallet", amount)

    _refused(attacker)
    assert vault.balanceOf(attacker.address) == shares
    assert vault.redeemRequestOf(attacker.address)[0] == 0
    assert token.balanceOf(attacker.address) == held + amount
    assert _principal(credit, attacker) == amount


def test_lender_drawing_credit_from_inside_its_claim_is_refused_by_the_vaults_lock(
    credit: Credit, attacker: Any, actors: Actors, provider: Any
) -> None:
    """The other way round: the lines are not locked during a vault claim, but their draw
    reaches the vault's `lend`, which is; the whole draw reverts and the line stays untouched."""
    vault, token = credit.vault, credit.token
    shares = int(vault.balanceOf(attacker.address))
    _queue(credit, attacker, actors, provider, shares)
    (_, value, _) = vault.redeemRequestOf(attacker.address)
    lent, held = int(vault.lentAssets()), int(token.balanceOf(attacker.address))
    _arm(attacker, actors, credit.lines, "drawToWallet", 300 * USD)

    _as(attacker, actors, vault, "redeem", shares, attacker.address, attacker.address)

    _refused(attacker)
    assert _principal(credit, attacker) == 0
    assert vault.lentAssets() == lent
    assert token.balanceOf(attacker.address) == held + int(value)


def test_borrower_reentering_the_lines_from_its_repayment_is_refused(
    credit: Credit, attacker: Any, actors: Actors
) -> None:
    """`tokensToSend` runs after the line was credited and before the tokens leave: drawing the
    freed limit again there is refused by the lines' lock."""
    vault, token, lines = credit.vault, credit.token, credit.lines
    drawn = 1_000 * USD
    _as(attacker, actors, lines, "drawToWallet", drawn)
    lent, idle = int(vault.lentAssets()), int(vault.idleAssets())
    held = int(token.balanceOf(attacker.address))
    _arm(attacker, actors, lines, "drawToWallet", drawn)

    receipt = _as(attacker, actors, lines, "repay", attacker.address, 2 * drawn)

    _refused(attacker)
    [repaid] = receipt.events.filter(lines.CreditRepaid)
    paid = int(repaid.fees) + int(repaid.interest) + int(repaid.principal)
    assert int(repaid.principal) == drawn
    assert lines.debtOf(attacker.address) == 0
    assert token.balanceOf(attacker.address) == held - paid
    assert vault.lentAssets() == lent - drawn
    assert vault.idleAssets() == idle + paid


def test_borrower_reentering_from_its_down_payment_is_refused(
    suite: Suite, terms_for: Any, credit: Credit, attacker: Any, actors: Actors
) -> None:
    """`drawToOrderWithDownPayment` pulls the borrower's share first: a repayment from inside that
    pull (of a debt the draw has just recorded) is refused by the lines' lock."""
    vault, token, lines, escrow = credit.vault, credit.token, credit.lines, suite.escrow
    price, down = 800 * USD, 200 * USD
    label = f"credit reentrancy {next(_labels)} {attacker.address}"
    item = register(suite.registry, actors.merchant, sku_key(label))
    terms: Terms = terms_for(
        buyer=attacker.address,
        payer=lines.address,
        token=token.address,
        amount=price,
        order_ref=h(label),
        item_ids=(item,),
    )
    lent, held = int(vault.lentAssets()), int(token.balanceOf(attacker.address))
    _arm(attacker, actors, lines, "repay", attacker.address, price)

    _as(attacker, actors, lines, "drawToOrderWithDownPayment", terms.as_abi(), down)

    _refused(attacker)
    assert _principal(credit, attacker) == price - down
    assert vault.lentAssets() == lent + price - down
    assert token.balanceOf(attacker.address) == held - down
    assert escrow.escrowedOf(terms.as_abi()) == price
    assert token.balanceOf(lines.address) == 0
    assert suite.registry.itemOf(item).held


def test_lender_claiming_from_inside_its_repayment_is_paid_its_requests_value(
    credit: Credit, attacker: Any, actors: Actors, provider: Any
) -> None:
    """Allowed, and harmless: the vault is not locked during a repayment to the lines. From inside
    the repayment (the line credited, the tokens not yet moved, the vault not yet told) the
    attacker claims its queued shares: it is paid their value at the request, the pool's assets
    stay exact, and the repayment's income then unlocks, over 7 days, to the remaining shares."""
    vault, token, lines = credit.vault, credit.token, credit.lines
    drawn = 500 * USD
    _as(attacker, actors, lines, "drawToWallet", drawn)
    shares = int(vault.balanceOf(attacker.address))
    _queue(credit, attacker, actors, provider, shares)
    (_, worth, _) = vault.redeemRequestOf(attacker.address)
    # Cash and loans, not totalAssets: views run at the node's clock, and income unlocks by it.
    idle, lent = int(vault.idleAssets()), int(vault.lentAssets())
    supply = int(vault.totalSupply())
    held = int(token.balanceOf(attacker.address))
    _arm(attacker, actors, vault, "redeem", shares, attacker.address, attacker.address)

    receipt = _as(attacker, actors, lines, "repay", attacker.address, 2 * drawn)

    assert attacker.attempts() == 1 and attacker.lastSucceeded()
    [repaid] = receipt.events.filter(lines.CreditRepaid)
    income = int(repaid.fees) + int(repaid.interest)
    assert int(repaid.principal) == drawn and income > 0
    assert vault.redeemRequestOf(attacker.address)[0] == 0
    assert token.balanceOf(attacker.address) == held + int(worth) - drawn - income
    assert vault.totalSupply() == supply - shares
    assert vault.idleAssets() == idle - int(worth) + drawn + income
    assert vault.lentAssets() == lent - drawn
    assert lines.debtOf(attacker.address) == 0
    [locked] = receipt.events.filter(vault.IncomeLocked)
    assert int(locked.amount) == income  # it joins what is still unlocking, over 7 days
    advance(provider, int(vault.INCOME_UNLOCK_PERIOD()))
    assert vault.lockedIncome() == 0
    assert vault.totalAssets() == vault.idleAssets() + vault.lentAssets() - vault.impairedAssets()
