"""Attacks that succeed against today's contracts: the regression suite for the hardened ones.

Each test plays an attack to its end and asserts the SAFE outcome (the refund is refused, the
second order cannot be opened, the lender bears its share of the loss...), so on today's
contracts every test here fails. The steps that depend on the contracts' API (how an item is
registered, an order opened or shipped, a credit line approved or drawn) live in the helpers
below: porting the tests to new contracts means editing those helpers. Assertions are about
outcomes (balances, who was paid, records, verdicts), never about error names: a refused step is
any revert, detected with `succeeds`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import ape
import click
import pytest
from ape.exceptions import ContractLogicError
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, sign
from app.domain.merkle import BatchLeaf, ItemBatch
from app.domain.vocab import CustodyAction, LineStatus
from scripts._lib.suite import CreditOptions, default_policy
from tests.attacks.conftest import ATTESTER, USD, Actors, Suite, now_of
from tests.contracts.escrow.helpers import (
    DAY,
    ETH,
    LogisticsKind,
    OrderStatus,
    Terms,
    h,
    update,
)

ADMIN_ROLE = b"\x00" * 32
ETHER = 10**18
GTIN = "4006381333931"  # a valid GTIN-13 (check digit 1), standing for brand M's product
_labels = itertools.count(1)


def _label(text: str) -> str:
    """A label unique in this session (the package's chain is shared by every test)."""
    return f"trust today {text} {next(_labels)}"


# ================================================================== helpers
# Generic: run a step that may be refused; fresh accounts; the clock; admin grants.


def succeeds(step: Callable[[], Any]) -> bool:
    """Runs a transaction; False when the contracts refuse it (any revert, whatever its error)."""
    try:
        step()
    except ContractLogicError:
        return False
    return True


def fresh_account(actors: Actors, ether: int = 10) -> Any:
    """A new Ape test account beyond Anvil's funded ten, given some ETH by the admin."""
    account = ape.accounts.test_accounts.generate_test_account()
    actors.admin.transfer(account, ether * ETHER)
    return account


def advance(provider: Any, seconds: int) -> None:
    provider.web3.provider.make_request("evm_increaseTime", [seconds])
    provider.web3.provider.make_request("evm_mine", [])


def grant_admin(contract: Any, actors: Actors, newcomer: str) -> None:
    """The admin grants DEFAULT_ADMIN_ROLE straight to `newcomer` (the first half of a one-step
    handover; `renounceRole` is the second)."""
    contract.grantRole(ADMIN_ROLE, newcomer, sender=actors.admin)


# ------------------------------------------------------------------ registry steps


def approve_merchant(suite: Suite, actors: Actors, account: Any) -> None:
    """The platform's verifier approves `account` as a merchant."""
    suite.registry.approveMerchant(
        account.address, "Shop", h(f"identity {account.address}"), sender=actors.verifier
    )


def sku_item_id(suite: Suite, merchant: Any, sku: str, serial: str) -> bytes:
    """The id a merchant's SKU and serial derive to."""
    return bytes(suite.registry.itemIdOf(merchant.address, sku, serial))


def register_item(suite: Suite, merchant: Any, sku: str, serial: str = "S1") -> bytes:
    """`merchant` registers its own item named by SKU and serial; returns the item id."""
    item_id = sku_item_id(suite, merchant, sku, serial)
    suite.registry.registerItem(item_id, h(f"meta {sku}"), f"ipfs://{sku}", sender=merchant)
    return item_id


def register_raw_id(suite: Suite, registrant: Any, item_id: bytes) -> None:
    """`registrant` registers an item under an id it chose (someone else's, in a squat)."""
    suite.registry.registerItem(item_id, h("squat meta"), "ipfs://squat", sender=registrant)


def claim_gtin(suite: Suite, actors: Actors, brand: Any, gtin: str) -> None:
    """The platform records that `gtin` belongs to `brand`. Today's registry has no notion of
    who owns a GTIN, so this does nothing; a hardened registry's claim step goes here."""


def register_batch(suite: Suite, merchant: Any, leaves: list[BatchLeaf]) -> ItemBatch:
    batch = ItemBatch(leaves)
    suite.registry.registerBatch(
        batch.root, len(leaves), h("batch meta"), "ipfs://batch", sender=merchant
    )
    return batch


def activate_batch_item(suite: Suite, batch: ItemBatch, leaf: BatchLeaf, sender: Any) -> None:
    suite.registry.activateBatchItem(
        batch.root, leaf.item_id, leaf.metadata_hash, batch.proof(leaf.item_id), sender=sender
    )


def recall_item(suite: Suite, merchant: Any, item_id: bytes) -> None:
    suite.registry.recallItem(item_id, h("recall notice"), sender=merchant)


def sold_records(suite: Suite, item_id: bytes, from_block: int) -> list[Any]:
    """The registry's CustodyRecorded logs with action Sold for `item_id` since `from_block`."""
    logs = suite.registry.CustodyRecorded.range(
        from_block, ape.chain.blocks.height + 1, search_topics={"itemId": item_id}
    )
    return [log for log in logs if int(log.action) == CustodyAction.SOLD]


def item_record(suite: Suite, item_id: bytes) -> tuple[str, int, int]:
    """(merchant, updatedAt, lastAction) of an item."""
    item = suite.registry.itemOf(item_id)
    return str(item.merchant), int(item.updatedAt), int(item.lastAction)


# ------------------------------------------------------------------ escrow steps


def open_order(suite: Suite, terms: Terms, buyer: Any) -> None:
    """The buyer opens and pays the order (ETH orders carry the price as value)."""
    value = terms.amount if terms.is_eth else 0
    suite.escrow.open(terms.as_abi(), value=value, sender=buyer)


def ship_order(suite: Suite, terms: Terms, merchant: Any) -> None:
    """The merchant marks the order shipped (today: no carrier is named)."""
    suite.escrow.ship(terms.as_abi(), h("tracking"), sender=merchant)


def report_delivered(suite: Suite, actors: Actors, *terms: Terms) -> None:
    """The logistics oracle reports the orders delivered, in one batch."""
    updates = [update(t.order_id, LogisticsKind.DELIVERED) for t in terms]
    suite.escrow.reportLogistics(updates, sender=actors.oracle)


def confirm_receipt(suite: Suite, terms: Terms, buyer: Any) -> None:
    suite.escrow.confirmReceipt(terms.as_abi(), sender=buyer)


def refund_recalled(suite: Suite, terms: Terms, item_index: int, buyer: Any) -> None:
    suite.escrow.refundRecalled(terms.as_abi(), item_index, sender=buyer)


def offer_settlement(suite: Suite, terms: Terms, buyer_bps: int, offerer: Any) -> None:
    suite.escrow.offerSettlement(terms.as_abi(), buyer_bps, sender=offerer)


def withdraw_offer(suite: Suite, terms: Terms, offerer: Any) -> bool:
    """The offerer takes its settlement offer back; False when the escrow has no way to."""
    escrow = suite.escrow
    if not hasattr(escrow, "withdrawOffer"):
        return False
    return succeeds(lambda: escrow.withdrawOffer(terms.as_abi(), sender=offerer))


def accept_settlement(suite: Suite, terms: Terms, buyer_bps: int, accepter: Any) -> None:
    suite.escrow.acceptSettlement(terms.as_abi(), buyer_bps, sender=accepter)


def pause_escrow(suite: Suite, actors: Actors) -> None:
    suite.escrow.pause(sender=actors.admin)


def unpause_escrow(suite: Suite, actors: Actors) -> None:
    suite.escrow.unpause(sender=actors.admin)


def escrow_credit(suite: Suite, account: Any, token: str) -> int:
    """What the escrow owes `account` in `token` (withdrawable)."""
    return int(suite.escrow.creditOf(account.address, token))


# ------------------------------------------------------------------ credit steps


@dataclass(frozen=True)
class Credit:
    token: Any
    vault: Any
    lines: Any


def deploy_credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    """A fresh CreditVault of the suite's stablecoin and CreditLines over it, wired as `ape run
    deploy` wires them, with the deploy script's default policy (no wallet draws); the admin
    holds POLICY_ROLE and RISK_ROLE, as the deployer does."""
    admin, token = actors.admin, suite.stablecoin
    vault = project_.CreditVault.deploy(token.address, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(
        admin.address, suite.verifier.address, vault.address, suite.escrow.address, sender=admin
    )
    suite.verifier.grantRole(suite.verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    suite.escrow.grantRole(suite.escrow.FUNDER_ROLE(), lines.address, sender=admin)
    for role in ("POLICY_ROLE", "RISK_ROLE"):
        lines.grantRole(getattr(lines, role)(), admin.address, sender=admin)
    policy = default_policy(6)
    assert not policy.walletDraws
    lines.publishPolicy(policy.rules_abi(), policy.tiers_abi(), sender=admin)
    return Credit(token, vault, lines)


def mint(credit: Credit, actors: Actors, account: Any, amount: int) -> None:
    credit.token.mint(account.address, amount, sender=actors.admin)


def deposit(credit: Credit, actors: Actors, lender: Any, amount: int) -> int:
    """The lender deposits `amount` into the vault; returns the shares minted."""
    mint(credit, actors, lender, amount)
    credit.token.approve(credit.vault.address, amount, sender=lender)
    before = int(credit.vault.balanceOf(lender.address))
    credit.vault.deposit(amount, lender.address, sender=lender)
    return int(credit.vault.balanceOf(lender.address)) - before


def redeem_all(credit: Credit, lender: Any) -> int:
    """The lender redeems every share it holds; returns the stablecoins it received (0 when the
    vault refuses)."""
    shares = int(credit.vault.balanceOf(lender.address))
    before = int(credit.token.balanceOf(lender.address))
    succeeds(lambda: credit.vault.redeem(shares, lender.address, lender.address, sender=lender))
    return int(credit.token.balanceOf(lender.address)) - before


def approve_line(suite: Suite, credit: Credit, provider: Any, borrower: Any, band: int) -> None:
    """The bureau (ATTESTER) attests `borrower`'s band and the borrower opens its credit line."""
    now = now_of(provider)
    label = _label(f"attestation {borrower.address}")
    attestation = Attestation(
        borrower=borrower.address,
        band=band,
        model_id=hex32(keccak(text="model v3")),
        report_hash=hex32(keccak(text=f"report {label}")),
        issued_at=now - 60,
        expires_at=now + 30 * DAY,
        nonce=int.from_bytes(keccak(text=label)),
        attester_set_version=int(suite.verifier.attesterSetVersion()),
    )
    domain = Domain(chain_id=1337, verifying_contract=suite.verifier.address)
    signature = bytes.fromhex(sign(attestation, domain, ATTESTER).removeprefix("0x"))
    credit.lines.applyForCredit(attestation.as_abi(), [signature], sender=borrower)
    assert int(credit.lines.lineOf(borrower.address).status) == LineStatus.ACTIVE


def credit_terms(
    terms_for: Callable[..., Terms],
    credit: Credit,
    borrower: Any,
    merchant: Any,
    amount: int,
    item_ids: tuple[bytes, ...] = (),
) -> Terms:
    """Terms of an order the borrower's credit line pays for, in the pool's stablecoin."""
    return terms_for(
        buyer=borrower.address,
        merchant=merchant.address,
        payer=credit.lines.address,
        token=credit.token.address,
        amount=amount,
        order_ref=h(_label("credit order")),
        item_ids=item_ids,
    )


def draw_to_order(credit: Credit, terms: Terms, borrower: Any) -> None:
    credit.lines.drawToOrder(terms.as_abi(), sender=borrower)


def repay(credit: Credit, actors: Actors, borrower: Any) -> int:
    """The borrower repays its whole debt (minted to it first); returns what it paid."""
    debt = int(credit.lines.debtOf(borrower.address))
    budget = debt + debt // 100  # a second of interest more accrues before the repayment lands
    mint(credit, actors, borrower, budget)
    credit.token.approve(credit.lines.address, budget, sender=borrower)
    before = int(credit.token.balanceOf(borrower.address))
    credit.lines.repay(borrower.address, budget, sender=borrower)
    return before - int(credit.token.balanceOf(borrower.address))


def mark_defaulted(credit: Credit, borrower: Any) -> None:
    """Anyone brings the line up to date: past due and the default threshold, it defaults."""
    credit.lines.accrue(borrower.address, sender=borrower)


def write_off(credit: Credit, actors: Actors, borrower: Any) -> bool:
    return succeeds(lambda: credit.lines.writeOff(borrower.address, sender=actors.admin))


@pytest.fixture
def credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    return deploy_credit(project_, suite, actors)


# ------------------------------------------------------------------ deployment and sales


def deploy_with_attesters(
    provider: Any, actors: Actors, directory: Path, attesters: tuple[str, ...]
) -> Any | None:
    """A fresh suite, deployed the way `ape run deploy --dev-stablecoin --attester A --attester B`
    (no --quorum) deploys it: through the script's own option checks and deployer. Returns its
    AttestationVerifier, or None when the script refuses these options."""
    from scripts import deploy
    from scripts._lib.deployer import deploy_suite

    try:
        options: CreditOptions = deploy._credit_options(
            provider.network, directory, None, True, attesters, None, True
        )
    except click.UsageError:
        return None
    outcome = deploy_suite(
        actors.admin,
        verifier=actors.verifier.address,
        oracle=actors.oracle.address,
        network_choice=provider.network_choice,
        directory=directory,
        credit=options,
        redeploy=True,
        echo=lambda *_, **__: None,
    )
    address = outcome.record.contracts["AttestationVerifier"].address
    return ape.project.AttestationVerifier.at(address)


def complete_sale(suite: Suite, actors: Actors, terms: Terms, buyer: Any) -> None:
    """An honest sale: shipped by its merchant, delivered, confirmed by the buyer."""
    ship_order(suite, terms, actors.merchant)
    report_delivered(suite, actors, terms)
    confirm_receipt(suite, terms, buyer)
    assert suite.escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED


# ================================================================== 1. decoy refund


def _decoy_refund(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms], decoy: bytes, buyer: Any
) -> None:
    """M's real item X and the recalled decoy in one order; after delivery the buyer asks for a
    recall refund naming the decoy. Safe: the order never opens, or the refund is refused."""
    escrow_before = escrow_credit(suite, buyer, ETH)
    real = register_item(suite, actors.merchant, _label("sku X"))
    terms = terms_for(buyer=buyer.address, payer=buyer.address, item_ids=(real, decoy))
    if not succeeds(lambda: open_order(suite, terms, buyer)):
        return  # safe: an order listing another merchant's item cannot be opened
    ship_order(suite, terms, actors.merchant)
    report_delivered(suite, actors, terms)

    refunded = succeeds(lambda: refund_recalled(suite, terms, 1, buyer))

    gained = escrow_credit(suite, buyer, ETH) - escrow_before
    assert not refunded and gained == 0, (
        f"buyer got {gained} of {terms.amount} back after delivery of the real item, "
        "by naming a recalled decoy of another merchant"
    )


def test_decoy_refund_with_a_rivals_recalled_item(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The buyer lists rival R's recalled item D beside M's item X, and once X is delivered
    claims a recall refund for D: today it gets the whole price back and keeps X."""
    decoy = register_item(suite, actors.rival, _label("decoy D"))
    recall_item(suite, actors.rival, decoy)
    _decoy_refund(suite, actors, terms_for, decoy, actors.buyer)


def test_decoy_refund_with_the_buyers_own_recalled_item(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The buyer also runs an approved shop: it registers and recalls its own decoy D, lists it
    beside M's item X, and after delivery claims a recall refund for D."""
    buyer = fresh_account(actors)
    approve_merchant(suite, actors, buyer)
    decoy = register_item(suite, buyer, _label("own decoy D"))
    recall_item(suite, buyer, decoy)
    _decoy_refund(suite, actors, terms_for, decoy, buyer)


# ================================================================== 2. credit cash-out


def test_credit_cannot_be_cashed_out_through_an_order_to_the_borrowers_own_address(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Wallet draws are off, so the borrower draws into an order whose 'merchant' is its own
    second address (no approved merchant), confirms at once, and that address withdraws the
    stablecoins from the escrow: the credit line became cash."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower, pocket = fresh_account(actors), fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(terms_for, credit, borrower, pocket, 500 * USD)

    if succeeds(lambda: draw_to_order(credit, terms, borrower)):
        succeeds(lambda: confirm_receipt(suite, terms, borrower))
        succeeds(lambda: suite.escrow.withdraw(credit.token.address, sender=pocket))

    cashed = int(credit.token.balanceOf(pocket.address)) + escrow_credit(
        suite, pocket, credit.token.address
    )
    assert cashed == 0, f"the borrower's second address holds {cashed} of drawn credit"


def test_a_credit_paid_merchant_is_not_paid_before_a_delivery_report(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """The borrower's accomplice is an approved merchant: the borrower draws into an order for
    one of its items and confirms receipt at once, before anything was shipped or delivered,
    and the merchant is paid (the same cash-out through a real shop)."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower, shop = fresh_account(actors), fresh_account(actors)
    approve_merchant(suite, actors, shop)
    item = register_item(suite, shop, _label("accomplice sku"))
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(terms_for, credit, borrower, shop, 500 * USD, item_ids=(item,))
    draw_to_order(credit, terms, borrower)
    before = escrow_credit(suite, shop, credit.token.address)

    succeeds(lambda: confirm_receipt(suite, terms, borrower))

    paid = escrow_credit(suite, shop, credit.token.address) - before
    assert paid == 0, f"merchant credited {paid} of a credit-paid order never reported delivered"


# ================================================================== 3. forged sale


def test_a_throwaway_order_cannot_record_a_sale_of_another_merchants_item(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """Two throwaway addresses (buyer T1, 'merchant' T2, not approved) open a 1-wei order listing
    M's genuine item X and T1 confirms: the escrow writes a Sold record for X into the registry,
    as if M had sold it."""
    item = register_item(suite, actors.merchant, _label("sku X"))
    record_before = item_record(suite, item)
    start = int(ape.chain.blocks.height)
    t1, t2 = fresh_account(actors), fresh_account(actors)
    terms = terms_for(
        buyer=t1.address, payer=t1.address, merchant=t2.address, amount=1, item_ids=(item,)
    )

    if succeeds(lambda: open_order(suite, terms, t1)):
        succeeds(lambda: confirm_receipt(suite, terms, t1))

    assert sold_records(suite, item, start) == [], "a Sold record for X was written"
    assert item_record(suite, item) == record_before, "X's record (updatedAt, lastAction) moved"


# ================================================================== 4. squatting


def test_a_merchant_can_register_its_sku_id_after_a_rival_tried_to_squat_it(
    suite: Suite, actors: Actors
) -> None:
    """Rival R registers the id M's SKU and serial derive to before M does; M then cannot
    register its own item, and the id reads as R's."""
    sku = _label("sku squatted")
    item = sku_item_id(suite, actors.merchant, sku, "S1")
    succeeds(lambda: register_raw_id(suite, actors.rival, item))

    succeeds(lambda: register_item(suite, actors.merchant, sku, "S1"))

    owner = str(suite.registry.itemOf(item).merchant)
    assert owner == actors.merchant.address, f"M's SKU id belongs to {owner}, not to M"


def test_a_rival_cannot_register_an_id_derived_from_another_merchants_sku(
    suite: Suite, actors: Actors
) -> None:
    """The squat itself, which nothing can undo afterwards (no function reassigns an id):
    R's registration of the id derived from M's SKU must be refused."""
    item = sku_item_id(suite, actors.merchant, _label("sku"), "S1")

    squatted = succeeds(lambda: register_raw_id(suite, actors.rival, item))

    assert not squatted, "R registered the id derived from M's SKU"


def test_a_rival_cannot_register_the_gs1_id_of_a_brands_gtin(suite: Suite, actors: Actors) -> None:
    """R registers the GS1 id (GTIN + serial) of brand M's product: today anyone approved may
    take any GTIN's ids."""
    claim_gtin(suite, actors, actors.merchant, GTIN)
    item = bytes(suite.registry.gs1ItemId(GTIN, f"SN{next(_labels)}"))

    squatted = succeeds(lambda: register_raw_id(suite, actors.rival, item))

    assert not squatted, f"R registered the GS1 id of brand M's GTIN {GTIN}"


def test_a_rival_cannot_activate_another_merchants_sku_id_through_its_batch(
    suite: Suite, actors: Actors
) -> None:
    """R commits M's SKU-derived id in a leaf of its own Merkle batch and activates it: the id
    becomes R's item, and M can never register it."""
    stolen = BatchLeaf(sku_item_id(suite, actors.merchant, _label("sku"), "S1"), h("meta"))
    own = BatchLeaf(sku_item_id(suite, actors.rival, _label("rival sku"), "S1"), h("meta"))

    def squat() -> None:
        batch = register_batch(suite, actors.rival, [stolen, own])
        activate_batch_item(suite, batch, stolen, actors.rival)

    activated = succeeds(squat)

    owner = str(suite.registry.itemOf(stolen.item_id).merchant)
    assert not activated and owner != actors.rival.address, f"M's SKU id activated for {owner}"


# ================================================================== 5. sold twice


def test_an_item_held_by_an_open_order_cannot_be_sold_again(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """Two buyers each open an order for the same unique item X of M and both are released: X
    is sold twice."""
    item = register_item(suite, actors.merchant, _label("sku unique"))
    start = int(ape.chain.blocks.height)
    first = terms_for(item_ids=(item,))
    second = terms_for(
        buyer=actors.stranger.address, payer=actors.stranger.address, item_ids=(item,)
    )
    open_order(suite, first, actors.buyer)

    second_opened = succeeds(lambda: open_order(suite, second, actors.stranger))

    if second_opened:
        confirm_receipt(suite, first, actors.buyer)
        confirm_receipt(suite, second, actors.stranger)
    sales = len(sold_records(suite, item, start))
    assert not second_opened, f"a second order for X opened; X recorded Sold {sales} times"


# ================================================================== 6. vault losses


def test_a_lender_cannot_exit_ahead_of_a_known_default_at_the_pre_loss_price(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Two lenders fund the pool equally; a borrower draws into an honest order and never
    repays. Once the line has defaulted (public) but before RISK writes it off, lender A redeems
    everything at the full price, and lender B bears the whole loss."""
    lender_a, lender_b = fresh_account(actors), fresh_account(actors)
    shares_a = deposit(credit, actors, lender_a, 1_000 * USD)
    deposit(credit, actors, lender_b, 1_000 * USD)
    borrower = fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(terms_for, credit, borrower, actors.merchant, 800 * USD)
    draw_to_order(credit, terms, borrower)
    complete_sale(suite, actors, terms, borrower)
    policy = default_policy(6)
    advance(provider, policy.tiers[2].term + policy.defaultAfter + DAY)
    mark_defaulted(credit, borrower)

    received_a = redeem_all(credit, lender_a)
    write_off(credit, actors, borrower)

    vault = credit.vault
    assert int(vault.totalLosses()) > 0, "setup: the loss was never recognised"
    assets, supply = int(vault.totalAssets()), int(vault.totalSupply())
    # A's price per share must not beat what a share is worth once the loss is booked.
    assert received_a * supply <= shares_a * assets + supply, (
        f"A redeemed {received_a} for {shares_a} shares; after the write-off a share is worth "
        f"{assets}/{supply}: B bore A's part of the loss"
    )


def test_a_deposit_sandwiching_a_repayment_captures_no_interest(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Interest counts only when paid: a depositor who deposits just before a large repayment and
    redeems right after takes a share of interest earned while its money was not there."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower = fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(terms_for, credit, borrower, actors.merchant, 2_000 * USD)
    draw_to_order(credit, terms, borrower)
    complete_sale(suite, actors, terms, borrower)
    advance(provider, 20 * DAY)
    sandwich = fresh_account(actors)
    stake = 10_000 * USD

    shares = deposit(credit, actors, sandwich, stake)
    paid = repay(credit, actors, borrower)
    received = redeem_all(credit, sandwich)

    left = int(credit.vault.balanceOf(sandwich.address))
    value = received + int(credit.vault.previewRedeem(left))
    profit = value - stake
    assert paid > 2_000 * USD, "setup: the repayment carried no interest"
    assert shares > 0
    assert profit <= stake // 10_000, (
        f"the sandwich made {profit} of the {paid - 2_000 * USD} interest"
    )


# ================================================================== 7. keys


def test_pausing_the_escrow_stops_logistics_reports(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The admin pauses the escrow in an incident, yet the oracle key keeps moving orders to
    Delivered (and so toward release)."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    pause_escrow(suite, actors)
    try:
        delivered = succeeds(lambda: report_delivered(suite, actors, terms))
    finally:
        unpause_escrow(suite, actors)

    assert not delivered, "the oracle marked an order Delivered while the escrow was paused"


def test_a_delivery_report_needs_a_carrier_assigned_to_the_order(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """No carrier was ever assigned to this order, yet the one oracle key marks it Delivered:
    any carrier key of the service can deliver any order."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)

    delivered = succeeds(lambda: report_delivered(suite, actors, terms))

    assert not delivered, "an order with no assigned carrier was marked Delivered"


def test_default_admin_cannot_be_handed_over_in_one_step(suite: Suite, actors: Actors) -> None:
    """`grantRole(DEFAULT_ADMIN_ROLE, x)` then `renounceRole` hands a whole contract to x in two
    instant transactions (a typo or a stolen key is final); a two-step, delayed transfer is
    safe. Every direct grant must be refused (any grant that goes through is revoked again)."""
    newcomer = actors.stranger.address
    granted = []
    for contract in (suite.registry, suite.escrow, suite.verifier, suite.vault, suite.lines):
        if succeeds(partial(grant_admin, contract, actors, newcomer)):
            granted.append(contract.contract_type.name)
            contract.revokeRole(ADMIN_ROLE, newcomer, sender=actors.admin)

    assert granted == [], f"DEFAULT_ADMIN_ROLE granted directly on {', '.join(granted)}"


def test_new_credit_per_period_is_capped(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Many approved borrowers (one compromised attester key can approve any number) draw their
    full limits in one period: nothing caps the pool's new credit, and the whole pool goes."""
    pool = 50_000 * USD
    deposit(credit, actors, fresh_account(actors), pool)
    limit = default_policy(6).tiers[3].limit
    drawn = 0
    for _ in range(pool // limit):
        borrower = fresh_account(actors)
        approve_line(suite, credit, provider, borrower, band=3)
        terms = credit_terms(terms_for, credit, borrower, actors.merchant, limit)
        if succeeds(partial(draw_to_order, credit, terms, borrower)):
            drawn += limit

    assert drawn < pool, f"{drawn} of new credit drawn in one period: the whole pool"


def test_a_fresh_deployment_with_two_attesters_needs_two_signatures(
    provider: Any, actors: Actors, tmp_path: Path
) -> None:
    """`ape run deploy --dev-stablecoin --attester A --attester B` (no --quorum) makes a verifier
    whose quorum is 1: either bureau's key alone approves any credit line. Safe: the default
    quorum is at least 2, or the script refuses to guess."""
    bureaus = tuple(ape.accounts.test_accounts.generate_test_account().address for _ in range(2))

    verifier = deploy_with_attesters(provider, actors, tmp_path, bureaus)

    if verifier is None:
        return  # safe: the script wants an explicit quorum
    assert int(verifier.quorum()) >= 2, f"quorum {verifier.quorum()} of {len(bureaus)} attesters"


# ================================================================== 8. lesser


def test_one_stale_logistics_update_does_not_void_the_rest_of_the_batch(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The oracle reports three deliveries; one order was already confirmed by its buyer, so its
    report is stale. Today the whole batch reverts and the two good reports are lost."""
    orders = [terms_for() for _ in range(3)]
    for terms in orders:
        open_order(suite, terms, actors.buyer)
        ship_order(suite, terms, actors.merchant)
    first, stale, last = orders
    confirm_receipt(suite, stale, actors.buyer)

    succeeds(lambda: report_delivered(suite, actors, first, stale, last))

    statuses = [OrderStatus(int(suite.escrow.orderOf(t.order_id).status)) for t in (first, last)]
    assert statuses == [OrderStatus.DELIVERED] * 2, f"the good reports were lost: {statuses}"


def test_a_settlement_offer_can_be_withdrawn(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """A merchant's settlement offer stands forever: the merchant cannot take it back, and the
    buyer can accept it whenever it suits it."""
    terms = terms_for()
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    offer_settlement(suite, terms, 5_000, actors.merchant)

    withdrawn = withdraw_offer(suite, terms, actors.merchant)
    accepted = succeeds(lambda: accept_settlement(suite, terms, 5_000, actors.buyer))

    assert withdrawn and not accepted, (
        f"offer withdrawn: {withdrawn}; the buyer accepted it afterwards: {accepted}"
    )
