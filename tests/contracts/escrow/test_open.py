"""Opening and paying an order: the terms, the id, the payment, and every refusal."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import (
    DAY,
    ETH,
    HOUR,
    ZERO_ADDRESS,
    OrderStatus,
    h,
    terms_of,
)


def test_open_pays_in_full_and_records_one_funded_order(
    escrow: Any, open_order: Any, buyer: Any, merchant: Any, asset: Any
) -> None:
    buyer_before = asset.balance_of(buyer)

    order = open_order()

    [event] = order.tx.events.filter(escrow.OrderOpened)
    assert (event.orderId, event.buyer, event.merchant) == (
        order.id,
        buyer.address,
        merchant.address,
    )
    assert terms_of(event) == order.terms
    state = escrow.orderOf(order.id)
    assert state.status == OrderStatus.FUNDED
    assert state.itemCount == 1
    assert state.shipBy == order.terms.ship_by
    assert (state.deliveredItems, state.releasedItems, state.refundedItems) == (0, 0, 0)
    assert (state.deliveredAt, state.carrier, state.disputeDeadline) == (0, 0, 0)
    assert asset.balance_of(escrow) == order.terms.amount
    assert escrow.escrowedOf(order.abi) == order.terms.amount
    spent = buyer_before - asset.balance_of(buyer)
    gas_cost = order.tx.total_fees_paid if order.terms.is_eth else 0
    assert spent == order.terms.amount + gas_cost


def test_order_id_is_the_hash_of_the_abi_encoded_terms(
    escrow: Any, make_terms: Any, register_item: Any
) -> None:
    terms = make_terms(item_ids=(register_item(), register_item()))

    assert escrow.orderIdOf(terms.as_abi()) == terms.order_id


def test_open_counts_registry_items(escrow: Any, open_order: Any, register_item: Any) -> None:
    order = open_order(item_ids=tuple(register_item() for _ in range(3)), order_ref=b"\x00" * 32)

    assert escrow.orderOf(order.id).itemCount == 3


def test_funder_opens_for_buyer_who_owns_the_order(
    escrow: Any, open_order: Any, funder: Any, buyer: Any, merchant: Any, asset: Any
) -> None:
    funder_before = asset.balance_of(funder)

    order = open_order(payer=funder.address)

    assert order.tx.events[0].buyer == buyer.address
    gas_cost = order.tx.total_fees_paid if order.terms.is_eth else 0
    assert funder_before - asset.balance_of(funder) == order.terms.amount + gas_cost
    escrow.cancel(order.abi, sender=buyer)
    assert escrow.creditOf(funder, order.terms.token) == order.terms.amount
    assert escrow.creditOf(buyer, order.terms.token) == 0


def test_open_reverts_when_caller_is_not_the_buyer(
    escrow: Any, open_order: Any, make_terms: Any, shopper: Any
) -> None:
    terms = make_terms()
    with ape.reverts(escrow.EscrowNotBuyer, orderId=terms.order_id, caller=shopper.address):
        open_order(terms, sender=shopper)


def test_open_reverts_when_payer_is_not_the_buyer(
    escrow: Any, make_terms: Any, buyer: Any, shopper: Any
) -> None:
    terms = make_terms(payer=shopper.address)
    with ape.reverts(escrow.EscrowNotBuyer, orderId=terms.order_id, caller=buyer.address):
        escrow.open(terms.as_abi(), value=terms.amount if terms.is_eth else 0, sender=buyer)


def test_open_reverts_when_buyer_is_its_own_merchant(
    escrow: Any, open_order: Any, buyer: Any
) -> None:
    with ape.reverts(escrow.EscrowBuyerIsMerchant, account=buyer.address):
        open_order(merchant=buyer.address)


def test_open_reverts_for_zero_merchant(escrow: Any, open_order: Any) -> None:
    with ape.reverts(escrow.EscrowZeroAddress):
        open_order(merchant=ZERO_ADDRESS)


def test_open_reverts_for_more_than_32_items(escrow: Any, open_order: Any) -> None:
    items = tuple(h(f"item {i}") for i in range(33))
    with ape.reverts(escrow.EscrowTooManyItems, count=33, max=32):
        open_order(item_ids=items)


def test_open_reverts_without_items_or_order_reference(escrow: Any, open_order: Any) -> None:
    with ape.reverts(escrow.EscrowMissingOrderRef):
        open_order(order_ref=b"\x00" * 32)


def test_open_reverts_for_zero_amount(escrow: Any, open_order: Any) -> None:
    with ape.reverts(escrow.EscrowInvalidAmount, amount=0, itemCount=1):
        open_order(amount=0)


def test_open_reverts_when_items_cannot_each_get_a_share(escrow: Any, open_order: Any) -> None:
    items = (h("a"), h("b"), h("c"))
    with ape.reverts(escrow.EscrowInvalidAmount, amount=2, itemCount=3):
        open_order(amount=2, item_ids=items)


def test_open_reverts_when_ship_by_is_not_in_the_future(
    escrow: Any, open_order: Any, make_terms: Any, chain: Any
) -> None:
    terms = make_terms()
    terms = replace(terms, ship_by=chain.pending_timestamp)
    with ape.reverts(
        escrow.EscrowInvalidDeadlines,
        shipBy=terms.ship_by,
        deliverBy=terms.deliver_by,
        blockTime=terms.ship_by,
    ):
        open_order(terms)


def test_open_reverts_when_deliver_by_precedes_ship_by(
    escrow: Any, open_order: Any, make_terms: Any, chain: Any
) -> None:
    terms = make_terms()
    terms = replace(terms, deliver_by=terms.ship_by - 1)
    with ape.reverts(
        escrow.EscrowInvalidDeadlines, shipBy=terms.ship_by, deliverBy=terms.deliver_by
    ):
        open_order(terms)


def test_open_reverts_when_ship_by_lies_beyond_the_horizon(
    escrow: Any, open_order: Any, make_terms: Any, admin: Any, chain: Any
) -> None:
    """An order holds its items until shipBy: the horizon bounds how long a dust order can."""
    escrow.setShipByHorizon(7 * DAY, sender=admin)
    now = chain.pending_timestamp
    chain.pending_timestamp = now
    far = make_terms(ship_by=now + 7 * DAY + 1, deliver_by=now + 8 * DAY)

    with ape.reverts(escrow.EscrowShipByTooFar, shipBy=far.ship_by, latest=now + 7 * DAY):
        open_order(far)
    chain.pending_timestamp = now + 1
    order = open_order(make_terms(ship_by=now + 1 + 7 * DAY, deliver_by=now + 8 * DAY))
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


@pytest.mark.parametrize("window", [DAY - 1, 30 * DAY + 1])
def test_open_reverts_for_dispute_window_outside_bounds(
    escrow: Any, open_order: Any, window: int
) -> None:
    with ape.reverts(
        escrow.EscrowDisputeWindowOutOfBounds, disputeWindow=window, min=DAY, max=30 * DAY
    ):
        open_order(dispute_window=window)


def test_open_reverts_when_terms_fee_is_not_the_current_fee(escrow: Any, open_order: Any) -> None:
    current = int(escrow.feeBps())
    with ape.reverts(escrow.EscrowFeeMismatch, termsFeeBps=0, currentFeeBps=current):
        open_order(fee_bps=0)


def test_open_reverts_for_token_not_allow_listed(
    escrow: Any, open_order: Any, project: Any, admin: Any
) -> None:
    other = project.MockStable6.deploy(sender=admin)
    with ape.reverts(escrow.EscrowTokenNotAllowed, token=other.address):
        open_order(token=other.address)


def test_open_reverts_when_eth_sent_differs_from_amount(
    escrow: Any, make_terms: Any, buyer: Any
) -> None:
    terms = make_terms(token=ETH, amount=10**18)
    with ape.reverts(escrow.EscrowWrongPayment, expected=10**18, received=10**18 - 1):
        escrow.open(terms.as_abi(), value=10**18 - 1, sender=buyer)


def test_open_reverts_when_eth_sent_with_token_order(
    escrow: Any, make_terms: Any, buyer: Any, stable: Any
) -> None:
    terms = make_terms(token=stable.address, amount=10**6)
    with ape.reverts(escrow.EscrowWrongPayment, expected=0, received=1):
        escrow.open(terms.as_abi(), value=1, sender=buyer)


def test_open_reverts_when_same_terms_are_opened_twice(escrow: Any, open_order: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowOrderExists, orderId=order.id):
        open_order(order.terms)


def test_open_reverts_while_paused(escrow: Any, open_order: Any, admin: Any) -> None:
    escrow.pause(sender=admin)
    with ape.reverts(escrow.EnforcedPause):
        open_order()


def test_pause_never_traps_funds_already_in_escrow(
    escrow: Any, open_order: Any, admin: Any, buyer: Any, merchant: Any, asset: Any, ship: Any
) -> None:
    released, cancelled = open_order(), open_order()
    escrow.pause(sender=admin)

    ship(released)
    escrow.confirmReceipt(released.abi, sender=buyer)
    escrow.cancel(cancelled.abi, sender=buyer)
    escrow.withdraw(asset.token, sender=buyer)
    escrow.withdraw(asset.token, sender=merchant)

    assert escrow.creditOf(buyer, asset.token) == 0
    assert escrow.creditOf(merchant, asset.token) == 0


def test_open_for_reverts_without_funder_role(escrow: Any, make_terms: Any, shopper: Any) -> None:
    terms = make_terms(payer=shopper.address)
    with ape.reverts(
        escrow.AccessControlUnauthorizedAccount,
        account=shopper.address,
        neededRole=escrow.FUNDER_ROLE(),
    ):
        escrow.openFor(terms.as_abi(), value=terms.amount if terms.is_eth else 0, sender=shopper)


def test_open_for_reverts_when_funder_is_not_the_payer(
    escrow: Any, make_terms: Any, funder: Any, buyer: Any
) -> None:
    terms = make_terms(payer=buyer.address)
    with ape.reverts(escrow.EscrowPayerMismatch, payer=buyer.address, caller=funder.address):
        escrow.openFor(terms.as_abi(), value=terms.amount if terms.is_eth else 0, sender=funder)


def test_open_for_reverts_for_zero_buyer(escrow: Any, make_terms: Any, funder: Any) -> None:
    terms = make_terms(payer=funder.address, buyer=ZERO_ADDRESS)
    with ape.reverts(escrow.EscrowZeroAddress):
        escrow.openFor(terms.as_abi(), value=terms.amount if terms.is_eth else 0, sender=funder)


def test_minimum_dispute_window_bound_applies_to_new_orders(
    escrow: Any, open_order: Any, admin: Any
) -> None:
    escrow.setDisputeWindowBounds(HOUR, 2 * HOUR, sender=admin)

    order = open_order(dispute_window=HOUR)

    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED
