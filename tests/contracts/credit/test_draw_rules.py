"""Who credit may pay and how much new credit a window may lend: only item orders of an active
merchant that is not the borrower's own, each item the merchant's and Authentic (the registry's
refusal bubbles up through the escrow), and all lines' new principal within the policy's cap."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.vocab import Verdict
from tests.contracts.credit.conftest import borrower_identity
from tests.contracts.credit.helpers import DAY, DEFAULT_TIERS, USD, Rules, reverts
from tests.contracts.escrow.helpers import OrderStatus, h


@pytest.fixture
def approved(lines: Any, attest: Any, borrower: Any) -> Any:
    """The borrower's band-2 line (limit 2,000 USD), just approved."""
    return lines.applyForCredit(*attest(band=2).args, sender=borrower)


def _nothing_lent(lines: Any, vault: Any, borrower: Any) -> None:
    assert lines.lineOf(borrower).principal == 0
    assert vault.lentAssets() == 0


# ------------------------------------------------------------------ items


def test_draw_to_order_reverts_for_an_order_without_items(
    lines: Any, vault: Any, borrower: Any, approved: Any, credit_terms: Any
) -> None:
    """An off-registry SKU order is fine for a wallet buyer, never for credit."""
    terms = credit_terms(item_ids=())
    with reverts(lines.CreditOrderWithoutItems):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    with reverts(lines.CreditOrderWithoutItems):
        lines.drawToOrderWithDownPayment(terms.as_abi(), 10 * USD, sender=borrower)
    _nothing_lent(lines, vault, borrower)


def test_draw_to_order_reverts_for_another_merchants_item(
    lines: Any,
    vault: Any,
    registry: Any,
    borrower: Any,
    merchant: Any,
    other_merchant: Any,
    approved: Any,
    credit_terms: Any,
    register_items: Any,
) -> None:
    """A merchant cannot sell (and be paid credit for) an item registered by another shop."""
    own = register_items(1)
    foreign = register_items(1, other_merchant)
    terms = credit_terms(item_ids=(*own, *foreign))
    with reverts(registry.RegistryItemNotOfMerchant, itemId=foreign[0], merchant=merchant.address):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    _nothing_lent(lines, vault, borrower)
    assert not registry.itemOf(own[0]).held


def test_draw_to_order_reverts_for_a_recalled_item(
    lines: Any,
    vault: Any,
    registry: Any,
    borrower: Any,
    merchant: Any,
    approved: Any,
    credit_terms: Any,
    register_items: Any,
) -> None:
    [item] = register_items(1)
    registry.recallItem(item, h("battery fault"), sender=merchant)
    terms = credit_terms(item_ids=(item,))
    with reverts(registry.RegistryItemNotAuthentic, itemId=item, verdict=Verdict.RECALLED):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    _nothing_lent(lines, vault, borrower)


def test_draw_to_order_holds_the_items_so_a_second_order_cannot_sell_them(
    lines: Any,
    escrow: Any,
    registry: Any,
    borrower: Any,
    approved: Any,
    draw_order: Any,
    credit_terms: Any,
) -> None:
    terms, _ = draw_order(100 * USD, items=2)
    assert all(registry.itemOf(i).held for i in terms.item_ids)
    again = credit_terms(item_ids=terms.item_ids[1:])
    with reverts(registry.RegistryItemHeld, itemId=terms.item_ids[1]):
        lines.drawToOrder(again.as_abi(), sender=borrower)
    # A cancelled order frees its items for another order.
    escrow.cancel(terms.as_abi(), sender=borrower)
    lines.drawToOrder(again.as_abi(), sender=borrower)
    assert escrow.orderOf(again.order_id).status == OrderStatus.FUNDED


# ------------------------------------------------------------------ merchants


def test_draw_to_order_reverts_for_a_suspended_merchant_until_reinstated(
    lines: Any,
    vault: Any,
    registry: Any,
    registry_verifier: Any,
    borrower: Any,
    merchant: Any,
    approved: Any,
    credit_terms: Any,
) -> None:
    terms = credit_terms()
    registry.suspendMerchant(merchant, h("under review"), sender=registry_verifier)
    with reverts(lines.CreditMerchantNotActive, merchant=merchant.address):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    _nothing_lent(lines, vault, borrower)
    registry.reinstateMerchant(merchant, sender=registry_verifier)
    lines.drawToOrder(terms.as_abi(), sender=borrower)
    assert lines.lineOf(borrower).principal == terms.amount


def test_draw_to_order_reverts_for_an_unknown_merchant(
    lines: Any, vault: Any, borrower: Any, shopper: Any, approved: Any, credit_terms: Any
) -> None:
    """A payee the registry never approved gets no credit, whatever items the terms list."""
    terms = credit_terms(merchant=shopper.address)
    with reverts(lines.CreditMerchantNotActive, merchant=shopper.address):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    _nothing_lent(lines, vault, borrower)


def test_draw_to_order_reverts_for_a_shop_owned_by_the_borrower(
    lines: Any,
    vault: Any,
    registry: Any,
    registry_verifier: Any,
    attest: Any,
    borrower: Any,
    other_borrower: Any,
    shopper: Any,
    approved: Any,
    credit_terms: Any,
    register_items: Any,
) -> None:
    """Self-dealing: a shop at another address whose owner is the borrower (same identity
    commitment) cannot be paid from the borrower's line; another borrower may buy there."""
    registry.approveMerchant(
        shopper, "Borrower's Shop", borrower_identity(borrower), sender=registry_verifier
    )
    items = register_items(2, shopper)
    terms = credit_terms(merchant=shopper.address, item_ids=items[:1])
    with reverts(
        lines.CreditMerchantIsBorrower, merchant=shopper.address, borrower=borrower.address
    ):
        lines.drawToOrder(terms.as_abi(), sender=borrower)
    _nothing_lent(lines, vault, borrower)
    lines.applyForCredit(*attest(who=other_borrower).args, sender=other_borrower)
    theirs = credit_terms(who=other_borrower, merchant=shopper.address, item_ids=items[1:])
    lines.drawToOrder(theirs.as_abi(), sender=other_borrower)
    assert lines.lineOf(other_borrower).principal == theirs.amount


# ------------------------------------------------------------------ new credit per window


CAP = 1_000 * USD


@pytest.fixture
def capped(
    lines: Any, admin: Any, chain: Any, attest: Any, borrower: Any, other_borrower: Any
) -> int:
    """Lines of both borrowers approved under policy v1; then v2 caps all new credit at 1,000 USD a
    day. Time is moved to one minute into a fresh window; returns when that window ends."""
    for who in (borrower, other_borrower):
        lines.applyForCredit(*attest(who=who).args, sender=who)
    rules = Rules(cap_period=DAY, period_cap=CAP)
    lines.publishPolicy(rules.as_abi(), [t.as_abi() for t in DEFAULT_TIERS], sender=admin)
    window_end = (int(chain.pending_timestamp) // DAY + 1) * DAY
    chain.pending_timestamp = window_end + 60
    return window_end + DAY


def test_period_cap_binds_all_lines_in_a_window_and_reopens_in_the_next(
    lines: Any,
    borrower: Any,
    other_borrower: Any,
    capped: int,
    draw_order: Any,
    chain: Any,
) -> None:
    """Lines approved under an older policy are capped too: the cap is the current policy's."""
    window_end = capped
    lines.drawToWallet(600 * USD, sender=borrower)
    draw_order(400 * USD, who=other_borrower)
    chain.mine()
    assert tuple(lines.periodCredit()) == (CAP, 0, window_end)
    with reverts(
        lines.CreditPeriodCapReached,
        drawnInWindow=CAP,
        requested=USD,
        cap=CAP,
        windowEndsAt=window_end,
    ):
        lines.drawToWallet(USD, sender=borrower)
    with reverts(lines.CreditPeriodCapReached, drawnInWindow=CAP, requested=50 * USD):
        draw_order(50 * USD, who=other_borrower)
    # The last second of the window is still in it.
    chain.pending_timestamp = window_end - 1
    with reverts(lines.CreditPeriodCapReached, windowEndsAt=window_end):
        lines.drawToWallet(USD, sender=borrower)
    chain.pending_timestamp = window_end
    chain.mine()
    assert tuple(lines.periodCredit()) == (0, CAP, window_end + DAY)
    lines.drawToWallet(700 * USD, sender=borrower)
    chain.mine()
    assert tuple(lines.periodCredit()) == (700 * USD, CAP - 700 * USD, window_end + DAY)
    assert lines.lineOf(borrower).principal == 1_300 * USD


def test_period_cap_refuses_a_draw_that_would_cross_it(
    lines: Any, borrower: Any, other_borrower: Any, capped: int
) -> None:
    lines.drawToWallet(900 * USD, sender=other_borrower)
    with reverts(
        lines.CreditPeriodCapReached,
        drawnInWindow=900 * USD,
        requested=100 * USD + 1,
        cap=CAP,
        windowEndsAt=capped,
    ):
        lines.drawToWallet(100 * USD + 1, sender=borrower)
    # Up to the cap exactly.
    lines.drawToWallet(100 * USD, sender=borrower)
    assert lines.lineOf(borrower).principal == 100 * USD
    assert tuple(lines.periodCredit())[:2] == (CAP, 0)


def test_a_line_drawing_and_repaying_in_turn_cannot_use_up_everyones_credit(
    lines: Any, borrower: Any, other_borrower: Any, capped: int
) -> None:
    """Credit a line draws and repays within one window is not new credit: counted, one line
    cycling draws and repayments (at no cost within a block) left nobody else anything to draw."""
    for _ in range(3):
        lines.drawToWallet(CAP, sender=borrower)
        lines.repay(borrower, 10 * CAP, sender=borrower)
    assert lines.debtOf(borrower) == 0
    assert tuple(lines.periodCredit())[:2] == (0, CAP)
    lines.drawToWallet(CAP, sender=other_borrower)
    with reverts(lines.CreditPeriodCapReached, drawnInWindow=CAP, requested=USD):
        lines.drawToWallet(USD, sender=borrower)


def test_principal_drawn_in_an_earlier_window_frees_nothing_of_this_ones_cap(
    lines: Any, borrower: Any, other_borrower: Any, capped: int, chain: Any
) -> None:
    """The cap still bounds what new lines take in a window: repaying old principal (anyone's)
    makes no room for more, and a line's repayment frees at most what it drew in the window."""
    lines.drawToWallet(300 * USD, sender=borrower)
    chain.pending_timestamp = capped + 60  # the next window
    lines.drawToWallet(200 * USD, sender=borrower)
    lines.drawToWallet(800 * USD, sender=other_borrower)
    lines.repay(borrower, 10 * CAP, sender=borrower)  # 500 of principal: 200 of them this window's
    assert lines.debtOf(borrower) == 0
    assert tuple(lines.periodCredit())[:2] == (800 * USD, 200 * USD)
    with reverts(lines.CreditPeriodCapReached, drawnInWindow=800 * USD, requested=200 * USD + 1):
        lines.drawToWallet(200 * USD + 1, sender=other_borrower)
    lines.drawToWallet(200 * USD, sender=other_borrower)


def test_a_line_that_drew_only_in_an_earlier_window_frees_nothing_by_repaying(
    lines: Any, borrower: Any, other_borrower: Any, capped: int, chain: Any
) -> None:
    lines.drawToWallet(100 * USD, sender=other_borrower)
    chain.pending_timestamp = capped + 60  # the next window
    lines.drawToWallet(CAP, sender=borrower)
    lines.repay(other_borrower, 10 * CAP, sender=other_borrower)
    assert lines.debtOf(other_borrower) == 0
    assert tuple(lines.periodCredit())[:2] == (CAP, 0)
    with reverts(lines.CreditPeriodCapReached, drawnInWindow=CAP, requested=USD):
        lines.drawToWallet(USD, sender=other_borrower)
