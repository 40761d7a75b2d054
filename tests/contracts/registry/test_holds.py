"""The escrow's hooks (ESCROW_ROLE): holding an order's items, freeing them, recording sales.

A stand-in account holds ESCROW_ROLE here; tests/contracts/escrow covers the same rules through
the real escrow's `open`, refunds and releases.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import CustodyAction, Verdict, custody, h

ORDER = h("order 1")
OTHER_ORDER = h("order 2")


@pytest.fixture
def escrow_role(accounts: Any, registry: Any, admin: Any) -> Any:
    """Stands in for the order escrow: holds the registry's ESCROW_ROLE."""
    account = accounts[9]
    registry.grantRole(registry.ESCROW_ROLE(), account, sender=admin)
    return account


def hold(registry: Any, escrow_role: Any, merchant: Any, items: list[bytes], order: bytes = ORDER):
    return registry.holdItems(order, merchant, items, sender=escrow_role)


def test_hold_marks_each_item_held_with_an_event(
    registry: Any, escrow_role: Any, merchant: Any, register_item: Any
) -> None:
    items = [register_item(), register_item()]

    tx = hold(registry, escrow_role, merchant, items)

    assert tx.events == [registry.ItemHeld(itemId=item, orderId=ORDER) for item in items]
    assert all(registry.itemOf(item).held for item in items)
    # Held is not a verdict: the shopper still reads the item as authentic.
    assert all(registry.verify(item) == Verdict.AUTHENTIC for item in items)


def test_hold_refuses_another_merchants_item(
    registry: Any, escrow_role: Any, merchant: Any, other_merchant: Any, register_item: Any
) -> None:
    mine, theirs = register_item(), register_item(sender=other_merchant)

    with ape.reverts(registry.RegistryItemNotOfMerchant, itemId=theirs, merchant=merchant.address):
        hold(registry, escrow_role, merchant, [mine, theirs])
    assert not registry.itemOf(mine).held


def test_hold_refuses_an_unregistered_item_even_for_a_zero_merchant(
    registry: Any, escrow_role: Any
) -> None:
    unknown = h("never registered")
    zero = "0x0000000000000000000000000000000000000000"

    with ape.reverts(registry.RegistryItemNotOfMerchant, itemId=unknown, merchant=zero):
        hold(registry, escrow_role, zero, [unknown])


def test_hold_refuses_recalled_flagged_and_suspended_merchants_items(
    registry: Any,
    escrow_role: Any,
    verifier: Any,
    merchant: Any,
    register_item: Any,
    confirmed_flag: Any,
    register_batch: Any,
    activate: Any,
) -> None:
    recalled, flagged, spare = register_item(), register_item(), register_item()
    registry.recallItem(recalled, h("recall"), sender=merchant)
    confirmed_flag(flagged)
    batch = register_batch(2)
    activate(batch, 0)
    in_recalled_batch = batch.leaf(0).item_id
    registry.recallBatch(batch.root, h("batch recall"), sender=merchant)

    for item, verdict in (
        (recalled, Verdict.RECALLED),
        (flagged, Verdict.FLAGGED),
        (in_recalled_batch, Verdict.RECALLED),
    ):
        with ape.reverts(registry.RegistryItemNotAuthentic, itemId=item, verdict=verdict):
            hold(registry, escrow_role, merchant, [item])

    registry.suspendMerchant(merchant, h("reason"), sender=verifier)
    with ape.reverts(
        registry.RegistryItemNotAuthentic, itemId=spare, verdict=Verdict.MERCHANT_SUSPENDED
    ):
        hold(registry, escrow_role, merchant, [spare])


def test_hold_refuses_an_item_listed_twice_all_or_none(
    registry: Any, escrow_role: Any, merchant: Any, register_item: Any
) -> None:
    first, twice = register_item(), register_item()

    with ape.reverts(registry.RegistryItemHeld, itemId=twice):
        hold(registry, escrow_role, merchant, [first, twice, twice])
    assert not registry.itemOf(first).held
    assert not registry.itemOf(twice).held


def test_hold_refuses_an_item_another_order_holds_until_freed(
    registry: Any, escrow_role: Any, merchant: Any, register_item: Any
) -> None:
    item = register_item()
    hold(registry, escrow_role, merchant, [item])

    with ape.reverts(registry.RegistryItemHeld, itemId=item):
        hold(registry, escrow_role, merchant, [item], OTHER_ORDER)

    registry.freeItems(ORDER, [item], 1, sender=escrow_role)
    hold(registry, escrow_role, merchant, [item], OTHER_ORDER)
    assert registry.itemOf(item).held


def test_free_releases_only_the_items_of_the_bitmap(
    registry: Any, escrow_role: Any, merchant: Any, register_item: Any
) -> None:
    items = [register_item() for _ in range(3)]
    hold(registry, escrow_role, merchant, items)

    tx = registry.freeItems(ORDER, items, 0b101, sender=escrow_role)

    assert tx.events == [
        registry.ItemFreed(itemId=items[0], orderId=ORDER),
        registry.ItemFreed(itemId=items[2], orderId=ORDER),
    ]
    assert [registry.itemOf(item).held for item in items] == [False, True, False]


def test_free_skips_items_that_are_not_held(
    registry: Any, escrow_role: Any, register_item: Any
) -> None:
    item = register_item()

    tx = registry.freeItems(ORDER, [item, h("unknown")], 0b11, sender=escrow_role)

    assert tx.events == []


def test_sale_is_recorded_and_the_item_stays_held_for_good(
    registry: Any, escrow_role: Any, merchant: Any, register_item: Any, now: Any
) -> None:
    item = register_item()
    hold(registry, escrow_role, merchant, [item])

    tx = registry.recordSales(
        merchant, [custody(item, now(), CustodyAction.SOLD, event_id=0)], sender=escrow_role
    )

    [event] = tx.events
    assert (event.itemId, event.submitter, event.action) == (
        item,
        escrow_role.address,
        CustodyAction.SOLD,
    )
    assert registry.itemOf(item).lastAction == CustodyAction.SOLD
    assert registry.itemOf(item).held
    with ape.reverts(registry.RegistryItemHeld, itemId=item):
        hold(registry, escrow_role, merchant, [item], OTHER_ORDER)


def test_sales_refuse_other_actions_and_other_merchants_items(
    registry: Any,
    escrow_role: Any,
    merchant: Any,
    other_merchant: Any,
    register_item: Any,
    now: Any,
) -> None:
    mine, theirs = register_item(), register_item(sender=other_merchant)

    with ape.reverts(registry.RegistryActionNotAllowed, eventId=7, action=CustodyAction.DELIVERED):
        registry.recordSales(
            merchant,
            [custody(mine, now(), CustodyAction.DELIVERED, event_id=7)],
            sender=escrow_role,
        )
    with ape.reverts(registry.RegistryNotItemCustodian, caller=merchant.address, itemId=theirs):
        registry.recordSales(
            merchant, [custody(theirs, now(), CustodyAction.SOLD, event_id=8)], sender=escrow_role
        )
    assert registry.itemOf(theirs).lastAction == CustodyAction.NONE


def test_hooks_go_on_while_the_registry_is_paused(
    registry: Any, admin: Any, escrow_role: Any, merchant: Any, register_item: Any, now: Any
) -> None:
    """A pause must never trap an order: holding, freeing and selling continue."""
    sold, freed = register_item(), register_item()
    registry.pause(sender=admin)

    hold(registry, escrow_role, merchant, [sold, freed])
    registry.freeItems(ORDER, [sold, freed], 0b10, sender=escrow_role)
    registry.recordSales(
        merchant, [custody(sold, now(), CustodyAction.SOLD, event_id=0)], sender=escrow_role
    )

    assert registry.itemOf(sold).lastAction == CustodyAction.SOLD
    assert not registry.itemOf(freed).held
