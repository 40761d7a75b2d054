"""An order's items: `open` has the registry hold each (the merchant's own, Authentic, listed once,
in no other open order, never sold); refunds free them, a sale keeps them held for good."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.escrow.helpers import BPS, OrderStatus, h, reverts_with
from tests.contracts.registry.helpers import Verdict

NOT_OF_MERCHANT = "RegistryItemNotOfMerchant(bytes32,address)"
NOT_AUTHENTIC = "RegistryItemNotAuthentic(bytes32,uint8)"
HELD = "RegistryItemHeld(bytes32)"


@pytest.fixture
def asset(eth_asset: Any) -> Any:
    """Paid in ETH only: these rules do not depend on the asset."""
    return eth_asset


def held(registry: Any, items: tuple[bytes, ...]) -> list[bool]:
    return [bool(registry.itemOf(item).held) for item in items]


def test_open_holds_every_item_of_the_order(
    escrow: Any, registry: Any, open_order: Any, register_item: Any
) -> None:
    items = (register_item(), register_item())

    order = open_order(item_ids=items)

    assert order.tx.events.filter(registry.ItemHeld) == [
        registry.ItemHeld(itemId=item, orderId=order.id) for item in items
    ]
    assert held(registry, items) == [True, True]


def test_open_refuses_another_merchants_item(
    escrow: Any, open_order: Any, merchant: Any, other_merchant: Any, register_item: Any
) -> None:
    """Attack 3 of the threat model (SECURITY.md): two throwaway addresses cannot stamp a sale
    on a genuine serial."""
    theirs = register_item(sender=other_merchant)

    with reverts_with(NOT_OF_MERCHANT, theirs, merchant.address):
        open_order(item_ids=(register_item(), theirs))


def test_open_refuses_an_unregistered_decoy(
    escrow: Any, open_order: Any, merchant: Any, register_item: Any
) -> None:
    decoy = h("decoy")

    with reverts_with(NOT_OF_MERCHANT, decoy, merchant.address):
        open_order(item_ids=(register_item(), decoy))


def test_open_refuses_a_recalled_decoy(
    escrow: Any, registry: Any, open_order: Any, merchant: Any, register_item: Any
) -> None:
    """Attack 1 of the threat model (SECURITY.md): a recalled item cannot be listed to claim a
    refund after delivery."""
    recalled = register_item()
    registry.recallItem(recalled, h("recall"), sender=merchant)

    with reverts_with(NOT_AUTHENTIC, recalled, Verdict.RECALLED):
        open_order(item_ids=(register_item(), recalled))


def test_open_refuses_a_flagged_item_and_a_suspended_merchants_item(
    escrow: Any,
    registry: Any,
    open_order: Any,
    verifier: Any,
    merchant: Any,
    register_item: Any,
    confirmed_flag: Any,
) -> None:
    flagged, spare = register_item(), register_item()
    confirmed_flag(flagged)

    with reverts_with(NOT_AUTHENTIC, flagged, Verdict.FLAGGED):
        open_order(item_ids=(flagged,))
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)
    with reverts_with(NOT_AUTHENTIC, spare, Verdict.MERCHANT_SUSPENDED):
        open_order(item_ids=(spare,))


def test_open_refuses_an_item_listed_twice(
    escrow: Any, registry: Any, open_order: Any, register_item: Any
) -> None:
    first, twice = register_item(), register_item()

    with reverts_with(HELD, twice):
        open_order(item_ids=(first, twice, twice))
    assert held(registry, (first, twice)) == [False, False]


def test_open_refuses_an_item_another_open_order_holds(
    escrow: Any, open_order: Any, register_item: Any
) -> None:
    """Attack 5 of the threat model (SECURITY.md): one serialised item cannot be sold through
    two orders."""
    item = register_item()
    open_order(item_ids=(item,))

    with reverts_with(HELD, item):
        open_order(item_ids=(item,))


def test_open_refuses_a_sold_item(
    escrow: Any, open_order: Any, buyer: Any, register_item: Any, ship: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    ship(order)
    escrow.confirmReceipt(order.abi, sender=buyer)

    with reverts_with(HELD, item):
        open_order(item_ids=(item,))


@pytest.mark.parametrize("who", ["buyer", "merchant"])
def test_cancel_frees_the_items_for_another_order(
    escrow: Any, registry: Any, open_order: Any, register_item: Any, request: Any, who: str
) -> None:
    items = (register_item(), register_item())
    order = open_order(item_ids=items)

    tx = escrow.cancel(order.abi, sender=request.getfixturevalue(who))

    assert tx.events.filter(registry.ItemFreed) == [
        registry.ItemFreed(itemId=item, orderId=order.id) for item in items
    ]
    assert held(registry, items) == [False, False]
    again = open_order(item_ids=items)
    assert escrow.orderOf(again.id).status == OrderStatus.FUNDED


def test_refund_past_ship_by_frees_the_items(
    escrow: Any, registry: Any, open_order: Any, shopper: Any, register_item: Any, chain: Any
) -> None:
    items = (register_item(),)
    order = open_order(item_ids=items)
    chain.pending_timestamp = order.terms.ship_by + 1

    escrow.cancel(order.abi, sender=shopper)

    assert held(registry, items) == [False]


def test_release_before_any_carrier_frees_the_items_and_records_no_sale(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any
) -> None:
    """The buyer's instant confirm is a payment, not a sale: the goods never left the merchant."""
    items = (register_item(), register_item())
    order = open_order(item_ids=items)

    tx = escrow.releaseItems(order.abi, 0b10, sender=buyer)

    assert tx.events.filter(registry.ItemFreed) == [
        registry.ItemFreed(itemId=items[1], orderId=order.id)
    ]
    assert tx.events.filter(registry.CustodyRecorded) == []
    assert tx.events.filter(escrow.SaleRecorded) == []
    assert held(registry, items) == [True, False]


def test_release_with_a_carrier_keeps_the_items_held_for_good(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any, ship: Any
) -> None:
    items = (register_item(), register_item())
    order = open_order(item_ids=items)
    ship(order)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    assert tx.events.filter(registry.ItemFreed) == []
    assert held(registry, items) == [True, True]


def test_settlement_frees_open_items_only_if_no_carrier_was_ever_named(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    register_item: Any,
    ship: Any,
    chain: Any,
) -> None:
    kept, freed = (register_item(),), (register_item(),)
    shipped, unshipped = open_order(item_ids=kept), open_order(item_ids=freed)
    ship(shipped)
    expires = chain.pending_timestamp + 3_600
    for order in (shipped, unshipped):
        escrow.offerSettlement(order.abi, BPS // 2, expires, sender=merchant)
        escrow.acceptSettlement(order.abi, BPS // 2, sender=buyer)

    assert held(registry, kept) == [True]
    assert held(registry, freed) == [False]
