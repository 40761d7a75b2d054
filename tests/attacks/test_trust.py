"""Attacks 1-6 of the threat model (SECURITY.md), which succeeded against the contracts before
the change (2be83e2): the regression suite for the hardened ones.

Each test plays an attack to its end and asserts the SAFE outcome (the decoy order never opens,
the second order cannot hold the item, the lender bears its share of the loss...); on 2be83e2
every one failed (commit b6156b2). The steps that depend on the contracts' API live in
tests/attacks/trust_steps.py; where the contracts now refuse a step with a custom error, the
test names the error and its arguments. Attacks 7 and 8 (keys, lesser ones) are in
test_trust_keys.py; the economic attacks the threat model adds are in test_trust_economics.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from app.domain.merkle import BatchLeaf
from scripts._lib.credit import default_policy
from tests.attacks.conftest import USD, Actors, Suite, error_data, gs1_key, refusal, sku_key
from tests.attacks.trust_steps import (
    GTIN,
    Credit,
    activate_batch_item,
    advance,
    approve_line,
    approve_merchant,
    claim_gtin,
    complete_sale,
    confirm_receipt,
    credit_terms,
    deploy_credit,
    deposit,
    draw_to_order,
    escrow_credit,
    fresh_account,
    item_record,
    label,
    mark_defaulted,
    open_order,
    recall_item,
    redeem_all,
    register_batch,
    register_item,
    register_key,
    repay,
    sku_item_id,
    sold_records,
    succeeds,
    write_off,
)
from tests.contracts.escrow.helpers import DAY, ETH, OrderStatus, Terms, h

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    return deploy_credit(project_, suite, actors)


# ================================================================== 1. decoy refund


def _decoy_order_is_refused(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms], decoy: bytes, buyer: Any
) -> None:
    """M's real item X and the recalled decoy in one order (after delivery the buyer would ask
    for a recall refund naming the decoy): the order never opens, and X stays free."""
    escrow_before = escrow_credit(suite, buyer, ETH)
    real = register_item(suite, actors.merchant, label("sku X"))
    terms = terms_for(buyer=buyer.address, payer=buyer.address, item_ids=(real, decoy))

    refused = refusal(lambda: open_order(suite, terms, buyer))

    assert refused == error_data(
        suite.registry, "RegistryItemNotOfMerchant", decoy, actors.merchant.address
    )
    assert suite.escrow.orderOf(terms.order_id).status == OrderStatus.NONE
    assert not suite.registry.itemOf(real).held
    assert escrow_credit(suite, buyer, ETH) == escrow_before


def test_attack1_a_rivals_recalled_item_cannot_be_listed_as_a_decoy(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The buyer lists rival R's recalled item D beside M's item X to claim a recall refund for
    D once X is delivered: an order lists only its merchant's items."""
    decoy = register_item(suite, actors.rival, label("decoy D"))
    recall_item(suite, actors.rival, decoy)
    _decoy_order_is_refused(suite, actors, terms_for, decoy, actors.buyer)


def test_attack1_the_buyers_own_recalled_item_cannot_be_listed_as_a_decoy(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The buyer also runs an approved shop: it registers and recalls its own decoy D and lists
    it beside M's item X."""
    buyer = fresh_account(actors)
    approve_merchant(suite, actors, buyer)
    decoy = register_item(suite, buyer, label("own decoy D"))
    recall_item(suite, buyer, decoy)
    _decoy_order_is_refused(suite, actors, terms_for, decoy, buyer)


# ================================================================== 2. credit cash-out


def test_attack2_credit_cannot_pay_an_order_to_an_address_that_is_no_merchant(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Wallet draws are off, so the borrower draws into an order whose 'merchant' is its own
    second address, to confirm at once and withdraw there: credit pays only orders of registry
    items, of an active merchant."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower, pocket = fresh_account(actors), fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    no_items = credit_terms(suite, terms_for, credit, borrower, pocket, 500 * USD)
    real_item = register_item(suite, actors.merchant, label("listed for the pocket"))
    with_items = credit_terms(
        suite, terms_for, credit, borrower, pocket, 500 * USD, item_ids=(real_item,)
    )

    refused = [
        refusal(lambda t=t: draw_to_order(credit, t, borrower)) for t in (no_items, with_items)
    ]

    assert refused == [
        error_data(credit.lines, "CreditOrderWithoutItems"),
        error_data(credit.lines, "CreditMerchantNotActive", pocket.address),
    ]
    succeeds(lambda: suite.escrow.withdraw(credit.token.address, sender=pocket))
    cashed = int(credit.token.balanceOf(pocket.address)) + escrow_credit(
        suite, pocket, credit.token.address
    )
    assert cashed == 0, f"the borrower's second address holds {cashed} of drawn credit"
    assert int(credit.lines.debtOf(borrower.address)) == 0


def test_attack2_a_credit_paid_merchant_is_not_paid_before_a_delivery_report(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """The borrower's accomplice is an approved merchant: the borrower draws into an order for
    one of its items and confirms receipt at once, before anything was shipped or delivered (the
    same cash-out through a real shop): a funder-paid order pays only delivered items."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower, shop = fresh_account(actors), fresh_account(actors)
    approve_merchant(suite, actors, shop)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(suite, terms_for, credit, borrower, shop, 500 * USD)
    draw_to_order(credit, terms, borrower)
    before = escrow_credit(suite, shop, credit.token.address)

    refused = refusal(lambda: confirm_receipt(suite, terms, borrower))

    assert refused == error_data(suite.escrow, "EscrowDeliveryUnproven", terms.order_id, 1)
    paid = escrow_credit(suite, shop, credit.token.address) - before
    assert paid == 0, f"merchant credited {paid} of a credit-paid order never reported delivered"


# ================================================================== 3. forged sale


def test_attack3_a_throwaway_order_cannot_record_a_sale_of_another_merchants_item(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """Two throwaway addresses (buyer T1, 'merchant' T2, not approved) open a 1-wei order listing
    M's genuine item X to confirm it and have the escrow write a Sold record for X: the order
    cannot hold an item that is not its merchant's."""
    item = register_item(suite, actors.merchant, label("sku X"))
    record_before = item_record(suite, item)
    start = int(ape.chain.blocks.height)
    t1, t2 = fresh_account(actors), fresh_account(actors)
    terms = terms_for(
        buyer=t1.address, payer=t1.address, merchant=t2.address, amount=1, item_ids=(item,)
    )

    refused = refusal(lambda: open_order(suite, terms, t1))

    assert refused == error_data(suite.registry, "RegistryItemNotOfMerchant", item, t2.address)
    assert sold_records(suite, item, start) == [], "a Sold record for X was written"
    assert item_record(suite, item) == record_before, "X's record (updatedAt, lastAction) moved"


# ================================================================== 4. squatting


def test_attack4_a_merchant_can_register_its_sku_id_after_a_rival_tried_to_squat_it(
    suite: Suite, actors: Actors
) -> None:
    """Rival R registers M's SKU and serial before M does: the registry derives R's own id from
    it, and M then registers its item under its id."""
    sku = label("sku squatted")
    item = sku_item_id(suite, actors.merchant, sku, "S1")
    squatted = register_key(suite, actors.rival, sku_key(sku, "S1"))

    registered = register_item(suite, actors.merchant, sku, "S1")

    assert squatted != item and registered == item
    owner = str(suite.registry.itemOf(item).merchant)
    assert owner == actors.merchant.address, f"M's SKU id belongs to {owner}, not to M"


def test_attack4_a_rival_cannot_register_an_id_derived_from_another_merchants_sku(
    suite: Suite, actors: Actors
) -> None:
    """The squat itself: R registers the key behind M's id and gets only an id of its own; M's
    id stays free for M."""
    sku = label("sku")
    item = sku_item_id(suite, actors.merchant, sku, "S1")

    squatted = register_key(suite, actors.rival, sku_key(sku, "S1"))

    assert squatted == sku_item_id(suite, actors.rival, sku, "S1") != item
    assert suite.registry.itemOf(item).merchant == ZERO, "R registered the id of M's SKU"


def test_attack4_a_rival_cannot_register_the_gs1_id_of_a_brands_gtin(
    suite: Suite, actors: Actors
) -> None:
    """R registers the GS1 id (GTIN + serial) of brand M's product: a GS1 id is registered only
    under a company prefix a verifier granted."""
    claim_gtin(suite, actors, actors.merchant, GTIN)
    serial = f"SN{label('gs1').split()[-1]}"
    item = bytes(suite.registry.gs1ItemId(GTIN, serial))

    refused = refusal(lambda: register_key(suite, actors.rival, gs1_key(GTIN, serial)))

    assert refused == error_data(
        suite.registry, "RegistryGs1PrefixNotGranted", actors.rival.address, GTIN
    )
    assert suite.registry.itemOf(item).merchant == ZERO
    assert register_key(suite, actors.merchant, gs1_key(GTIN, serial)) == item


def test_attack4_a_rival_cannot_activate_another_merchants_sku_id_through_its_batch(
    suite: Suite, actors: Actors
) -> None:
    """R commits M's SKU-derived id in a leaf of its own Merkle batch and activates it with M's
    key: activation derives the id under the batch's merchant (R), which the leaf does not
    commit to."""
    sku = label("sku")
    stolen = BatchLeaf(sku_item_id(suite, actors.merchant, sku, "S1"), h("meta"))
    own = BatchLeaf(sku_item_id(suite, actors.rival, label("rival sku"), "S1"), h("meta"))
    batch = register_batch(suite, actors.rival, [stolen, own])

    refused = refusal(
        lambda: activate_batch_item(suite, batch, stolen, sku_key(sku, "S1"), actors.rival)
    )

    derived = sku_item_id(suite, actors.rival, sku, "S1")
    assert refused == error_data(suite.registry, "RegistryInvalidProof", batch.root, derived)
    owner = str(suite.registry.itemOf(stolen.item_id).merchant)
    assert owner == ZERO, f"M's SKU id activated for {owner}"


# ================================================================== 5. sold twice


def test_attack5_an_item_held_by_an_open_order_cannot_be_sold_again(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """Two buyers each order the same unique item X of M, to have both released: X is held by
    the first order, and once sold through it stays held; it is recorded Sold once."""
    item = register_item(suite, actors.merchant, label("sku unique"))
    start = int(ape.chain.blocks.height)
    first = terms_for(item_ids=(item,))
    second = terms_for(
        buyer=actors.stranger.address, payer=actors.stranger.address, item_ids=(item,)
    )
    open_order(suite, first, actors.buyer)

    while_open = refusal(lambda: open_order(suite, second, actors.stranger))
    complete_sale(suite, actors, first, actors.buyer)
    once_sold = refusal(lambda: open_order(suite, second, actors.stranger))

    held = error_data(suite.registry, "RegistryItemHeld", item)
    assert [while_open, once_sold] == [held, held]
    assert len(sold_records(suite, item, start)) == 1


# ================================================================== 6. vault losses


def test_attack6_a_lender_cannot_exit_ahead_of_a_known_default_at_the_pre_loss_price(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """Two lenders fund the pool equally; a borrower draws into an honest order and never
    repays. Once the line has defaulted (public) but before RISK writes it off, lender A redeems
    everything, hoping for the full price while B bears the whole loss: the principal was
    impaired at due time plus grace, and a claim pays the lower of the values at request and
    claim."""
    lender_a, lender_b = fresh_account(actors), fresh_account(actors)
    shares_a = deposit(credit, actors, lender_a, 1_000 * USD)
    deposit(credit, actors, lender_b, 1_000 * USD)
    borrower = fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(suite, terms_for, credit, borrower, actors.merchant, 800 * USD)
    draw_to_order(credit, terms, borrower)
    complete_sale(suite, actors, terms, borrower)
    policy = default_policy(6)
    advance(provider, policy.tiers[2].term + policy.defaultAfter + DAY)
    mark_defaulted(credit, borrower)

    received_a = redeem_all(credit, lender_a, provider)
    write_off(credit, actors, borrower)

    vault = credit.vault
    assert int(vault.totalLosses()) > 0, "setup: the loss was never recognised"
    assets, supply = int(vault.totalAssets()), int(vault.totalSupply())
    # A's price per share must not beat what a share is worth once the loss is booked.
    assert received_a * supply <= shares_a * assets + supply, (
        f"A redeemed {received_a} for {shares_a} shares; after the write-off a share is worth "
        f"{assets}/{supply}: B bore A's part of the loss"
    )


def test_attack6_a_deposit_sandwiching_a_repayment_captures_no_interest(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """A depositor deposits just before a large repayment and redeems right after, to take a
    share of interest earned while its money was not there: income unlocks over 7 days and the
    exit pays at most the value at the request."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower = fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(suite, terms_for, credit, borrower, actors.merchant, 2_000 * USD)
    draw_to_order(credit, terms, borrower)
    complete_sale(suite, actors, terms, borrower)
    advance(provider, 20 * DAY)
    sandwich = fresh_account(actors)
    stake = 10_000 * USD

    shares = deposit(credit, actors, sandwich, stake)
    paid = repay(credit, actors, borrower)
    received = redeem_all(credit, sandwich, provider)

    left = int(credit.vault.balanceOf(sandwich.address))
    value = received + int(credit.vault.convertToAssets(left))
    profit = value - stake
    assert paid > 2_000 * USD, "setup: the repayment carried no interest"
    assert shares > 0
    assert profit <= stake // 10_000, (
        f"the sandwich made {profit} of the {paid - 2_000 * USD} interest"
    )
