"""Economic attacks the threat model (SECURITY.md) adds to its attacks 1-8: dust squatting of an
item, self-dealt padding of seller records, front-running a recall refund and the rounding of
partial ones, a borrower paying its own shop, decoys from batches, and what a verifier's
revocation of an id does to an order that holds it. Each test plays the attack to its end and
asserts the safe outcome, naming the custom error where the contracts refuse a step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.domain.merkle import BatchLeaf
from tests.attacks.conftest import (
    ETH_FLOOR,
    USD,
    USD_FLOOR,
    Actors,
    Suite,
    error_data,
    refusal,
    sku_key,
)
from tests.attacks.trust_steps import (
    ADMIN_ROLE,
    Credit,
    advance,
    approve_line,
    approve_merchant,
    credit_terms,
    deploy_credit,
    deposit,
    draw_to_order,
    escrow_credit,
    fresh_account,
    label,
    open_order,
    recall_item,
    register_batch,
    register_item,
    report_delivered,
    ship_order,
    sku_item_id,
    status_of,
)
from tests.contracts.escrow.helpers import DAY, ETH, OrderStatus, RefundReason, Terms, h


@pytest.fixture
def credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    return deploy_credit(project_, suite, actors)


def _refund_event(suite: Suite, receipt: Any) -> tuple[int, int, int, str]:
    [refunded] = receipt.events.filter(suite.escrow.OrderRefunded)
    return int(refunded.reason), int(refunded.items), int(refunded.payerAmount), str(refunded.by)


# ================================================================== dust squatting


def test_a_dust_order_holding_an_item_is_cancelled_by_the_merchant_then_sold_to_a_buyer(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """A squatter holds M's item X with a 1-wei order whose ship-by is as far away as the escrow
    allows (its ship-by horizon; decades away is refused), so that no real buyer can order X: the
    merchant cancels it at any time (the squatter gets its wei back), X is free again, and a real
    buyer's order for it opens."""
    item = register_item(suite, actors.merchant, label("squatted sku"))
    squatter = fresh_account(actors)
    horizon = int(suite.escrow.shipByHorizon())
    decades = terms_for().ship_by + 30 * 365 * DAY
    too_far = terms_for(
        buyer=squatter.address, payer=squatter.address, amount=1, item_ids=(item,),
        ship_by=decades, deliver_by=decades,
    )  # fmt: skip
    refused = refusal(lambda: open_order(suite, too_far, squatter))
    assert refused[:4] == error_data(suite.escrow, "EscrowShipByTooFar", decades, 0)[:4]
    furthest = terms_for().ship_by - DAY + horizon - 60
    squat = terms_for(
        buyer=squatter.address, payer=squatter.address, amount=1, item_ids=(item,),
        ship_by=furthest, deliver_by=furthest,
    )  # fmt: skip
    real = terms_for(item_ids=(item,))
    open_order(suite, squat, squatter)
    assert refusal(lambda: open_order(suite, real, actors.buyer)) == error_data(
        suite.registry, "RegistryItemHeld", item
    )

    receipt = suite.escrow.cancel(squat.as_abi(), sender=actors.merchant)
    open_order(suite, real, actors.buyer)

    assert _refund_event(suite, receipt) == (
        RefundReason.MERCHANT_CANCELLED, 1, 1, actors.merchant.address,
    )  # fmt: skip
    assert escrow_credit(suite, squatter, ETH) == 1
    assert status_of(suite, real) == OrderStatus.FUNDED
    assert suite.registry.itemOf(item).held


def test_a_dust_order_past_its_ship_by_is_refunded_by_a_stranger_and_frees_the_item(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms], provider: Any
) -> None:
    """The squatter's order has an ordinary ship-by and nobody cancels it: once the ship-by has
    passed without a carrier, anyone refunds it (to the squatter) and the item is free."""
    item = register_item(suite, actors.merchant, label("squatted sku"))
    squatter = fresh_account(actors)
    squat = terms_for(buyer=squatter.address, payer=squatter.address, amount=1, item_ids=(item,))
    open_order(suite, squat, squatter)
    too_early = refusal(lambda: suite.escrow.cancel(squat.as_abi(), sender=actors.stranger))
    advance(provider, DAY + 1)

    receipt = suite.escrow.cancel(squat.as_abi(), sender=actors.stranger)

    assert too_early == error_data(
        suite.escrow, "EscrowNotParty", squat.order_id, actors.stranger.address
    )
    assert _refund_event(suite, receipt) == (
        RefundReason.SHIP_BY_MISSED, 1, 1, actors.stranger.address,
    )  # fmt: skip
    assert escrow_credit(suite, actors.stranger, ETH) == 0
    assert not suite.registry.itemOf(item).held
    open_order(suite, terms_for(item_ids=(item,)), actors.buyer)


# ================================================================== seller-record padding


def test_self_dealt_dust_orders_fall_below_the_seller_record_floor_the_admin_sets(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """A merchant pads its seller record with 1-wei sales to a second address of its own. The
    contract's part of the defence: a per-token floor (0.001 ETH and one stablecoin in the
    deployment), readable by the service that builds seller records, below which orders do
    not count; only the admin changes it, in public. (The service's filter is tested in
    tests/app/shop.)"""
    escrow, token = suite.escrow, suite.stablecoin.address
    puppet = fresh_account(actors)
    padding = terms_for(buyer=puppet.address, payer=puppet.address, amount=1)
    open_order(suite, padding, puppet)

    by_stranger = refusal(lambda: escrow.setSellerRecordFloor(ETH, 0, sender=actors.merchant))
    receipt = escrow.setSellerRecordFloor(token, 2 * USD_FLOOR, sender=actors.admin)

    assert (int(escrow.sellerRecordFloor(ETH)), padding.amount) == (ETH_FLOOR, 1)
    assert padding.amount < int(escrow.sellerRecordFloor(ETH))
    assert by_stranger == error_data(
        escrow, "AccessControlUnauthorizedAccount", actors.merchant.address, ADMIN_ROLE
    )
    assert receipt.events.filter(escrow.SellerRecordFloorChanged) == [
        escrow.SellerRecordFloorChanged(token=token, amount=2 * USD_FLOOR)
    ]
    assert int(escrow.sellerRecordFloor(token)) == 2 * USD_FLOOR
    escrow.setSellerRecordFloor(token, USD_FLOOR, sender=actors.admin)


# ================================================================== recall refunds


def test_a_stranger_front_running_a_recall_refund_pays_only_the_payer_its_items_shares(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """Three items for 1 ETH (shares 333..333, 333..333 and 333..334: the last carries the
    rounding), delivered; M recalls the first and the last. A stranger front-runs the buyer's
    recall refund: the buyer (the payer) is credited exactly those two shares, the stranger
    nothing, the middle item goes on to its release, and a second refund of the same items or
    of the middle one is refused."""
    items = tuple(register_item(suite, actors.merchant, label("recall sku")) for _ in range(3))
    terms = terms_for(item_ids=items)
    open_order(suite, terms, actors.buyer)
    ship_order(suite, terms, actors.merchant)
    assert report_delivered(suite, actors, terms) == {}
    for item in (items[0], items[2]):
        recall_item(suite, actors.merchant, item)
    share = terms.amount // 3
    before = escrow_credit(suite, actors.buyer, ETH)
    merchant_before = escrow_credit(suite, actors.merchant, ETH)

    receipt = suite.escrow.refundRecalled(terms.as_abi(), 0b101, sender=actors.stranger)

    last = terms.amount - 2 * share
    assert _refund_event(suite, receipt) == (
        RefundReason.ITEM_RECALLED, 0b101, share + last, actors.stranger.address,
    )  # fmt: skip
    assert escrow_credit(suite, actors.buyer, ETH) - before == share + last
    assert escrow_credit(suite, actors.stranger, ETH) == 0
    assert int(suite.escrow.escrowedOf(terms.as_abi())) == share
    assert refusal(
        lambda: suite.escrow.refundRecalled(terms.as_abi(), 0b001, sender=actors.stranger)
    ) == error_data(suite.escrow, "EscrowInvalidItems", terms.order_id, 0b001)
    assert refusal(
        lambda: suite.escrow.refundRecalled(terms.as_abi(), 0b010, sender=actors.buyer)
    ) == error_data(suite.escrow, "EscrowItemNotRecalled", terms.order_id, items[1], 0)
    suite.escrow.confirmReceipt(terms.as_abi(), sender=actors.buyer)
    fee = share * terms.fee_bps // 10_000
    assert status_of(suite, terms) == OrderStatus.RELEASED
    assert escrow_credit(suite, actors.merchant, ETH) - merchant_before == share - fee
    assert escrow_credit(suite, actors.buyer, ETH) - before == share + last


def test_a_merchant_recalling_the_item_of_a_credit_order_refunds_the_line_not_anyone_else(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """A shop recalls the item of an order a borrower paid with credit, and the borrower (or
    the shop) hopes to pocket the refund: it goes to the payer, the credit line, and settling
    it repays the borrower's debt; nothing reaches the shop or the borrower's wallet."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower = fresh_account(actors)
    approve_line(suite, credit, provider, borrower, band=2)
    terms = credit_terms(suite, terms_for, credit, borrower, actors.merchant, 500 * USD)
    draw_to_order(credit, terms, borrower)
    ship_order(suite, terms, actors.merchant)
    token = credit.token.address
    merchant_before = escrow_credit(suite, actors.merchant, token)

    recall_item(suite, actors.merchant, terms.item_ids[0])
    suite.escrow.refundRecalled(terms.as_abi(), 1, sender=actors.merchant)
    credit.lines.settleRefund(terms.as_abi(), sender=actors.stranger)

    assert escrow_credit(suite, actors.merchant, token) == merchant_before
    assert escrow_credit(suite, credit.lines, token) == 0
    assert int(credit.lines.refundSettledOf(terms.order_id)) == 500 * USD
    assert int(credit.lines.debtOf(borrower.address)) < USD // 1_000  # seconds of interest
    assert int(credit.token.balanceOf(borrower.address)) == 0
    assert status_of(suite, terms) == OrderStatus.REFUNDED


# ================================================================== credit to one's own shop


def test_a_borrower_cannot_pay_its_own_shop_with_credit(
    suite: Suite,
    actors: Actors,
    credit: Credit,
    provider: Any,
    terms_for: Callable[..., Terms],
) -> None:
    """The borrower also owns an approved shop (under its own address, but the verifier's KYC
    committed the same owner): it draws credit into an order of its own shop's item, to be
    paid by it once a parcel is delivered. Credit never pays a shop the borrower owns."""
    deposit(credit, actors, fresh_account(actors), 10_000 * USD)
    borrower, shop = fresh_account(actors), fresh_account(actors)
    owner = label("sole trader's national id")
    approve_line(suite, credit, provider, borrower, band=2, owner=owner)
    approve_merchant(suite, actors, shop, owner=owner)
    terms = credit_terms(suite, terms_for, credit, borrower, shop, 500 * USD)

    refused = refusal(lambda: draw_to_order(credit, terms, borrower))

    assert refused == error_data(
        credit.lines, "CreditMerchantIsBorrower", shop.address, borrower.address
    )
    assert int(credit.lines.debtOf(borrower.address)) == 0
    assert not suite.registry.itemOf(terms.item_ids[0]).held


# ================================================================== decoys from batches


def test_an_unactivated_or_recalled_batch_item_of_the_merchant_cannot_be_a_decoy(
    suite: Suite, actors: Actors, terms_for: Callable[..., Terms]
) -> None:
    """The buyer lists M's real item beside an item of M's own Merkle batch that nobody
    activated, then beside one whose batch M recalled (activated afterwards by the buyer): the
    first has no record of M's yet, the second does not read Authentic."""
    real = register_item(suite, actors.merchant, label("real sku"))
    skus = [label("batch sku") for _ in range(2)]
    leaves = [BatchLeaf(sku_item_id(suite, actors.merchant, s, "S1"), h("meta")) for s in skus]
    batch = register_batch(suite, actors.merchant, leaves)
    suite.registry.recallBatch(batch.root, h("recall"), sender=actors.merchant)
    dormant, recalled = leaves
    suite.registry.activateBatchItem(
        batch.root, sku_key(skus[1], "S1"), recalled.metadata_hash,
        batch.proof(recalled.item_id), sender=actors.buyer,
    )  # fmt: skip

    refused = [
        refusal(lambda d=decoy: open_order(suite, terms_for(item_ids=(real, d)), actors.buyer))
        for decoy in (dormant.item_id, recalled.item_id)
    ]

    assert refused == [
        error_data(
            suite.registry, "RegistryItemNotOfMerchant", dormant.item_id, actors.merchant.address
        ),
        error_data(suite.registry, "RegistryItemNotAuthentic", recalled.item_id, 4),
    ]
    assert not suite.registry.itemOf(real).held


# ================================================================== the vault's queue


def test_nobody_but_its_controller_adds_to_a_redemption_request_and_pushes_its_claim_back(
    suite: Suite, actors: Actors, credit: Credit, provider: Any
) -> None:
    """A lender queued its shares; a day before they become claimable a griefer queues one share
    of its own for the lender's request, which restarts the request's cooldown (it used to, as
    often as the griefer liked: the lender's exit frozen for the price of a share). Only the
    controller adds to a request it has; the lender claims on time."""
    vault = credit.vault
    lender, griefer = fresh_account(actors), fresh_account(actors)
    shares = deposit(credit, actors, lender, 1_000 * USD)
    deposit(credit, actors, griefer, 1 * USD)
    vault.requestRedeem(shares, lender.address, lender.address, sender=lender)
    (_, value, claimable_at) = vault.redeemRequestOf(lender.address)
    advance(provider, int(vault.redeemCooldown()) - DAY)

    refused = refusal(
        lambda: vault.requestRedeem(1, lender.address, griefer.address, sender=griefer)
    )
    advance(provider, DAY)
    vault.redeem(shares, lender.address, lender.address, sender=lender)

    assert refused == error_data(vault, "CreditPoolNotController", griefer.address, lender.address)
    assert int(credit.token.balanceOf(lender.address)) == int(value)
    assert tuple(vault.redeemRequestOf(lender.address)) == (0, 0, claimable_at)
