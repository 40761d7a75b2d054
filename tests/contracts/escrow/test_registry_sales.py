"""Items released through an order handed to a carrier are recorded as sold in the product
registry; a release before any carrier is no sale. A registry refusal never blocks the money."""

from __future__ import annotations

from typing import Any

import pytest
from ape.exceptions import TransactionError

from tests.contracts.escrow.helpers import OrderStatus, encode_error, h

# IProductRegistry.CustodyAction
NO_ACTION = 0
SOLD = 5
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _buyer_tag(buyer: Any) -> bytes:
    """The locationHash of an escrow sale: the buyer's address, left-padded to 32 bytes."""
    return bytes(12) + bytes.fromhex(buyer.address[2:])


@pytest.fixture
def asset(eth_asset: Any) -> Any:
    """Paid in ETH only: these rules do not depend on the asset."""
    return eth_asset


def test_release_records_each_item_sold_to_the_buyer_through_the_order(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any, ship: Any
) -> None:
    items = (register_item(), register_item())
    order = open_order(item_ids=items)
    ship(order)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    sales = tx.events.filter(registry.CustodyRecorded)
    assert [(e.itemId, e.eventId) for e in sales] == [(items[0], 0), (items[1], 1)]
    for event in sales:
        assert event.submitter == escrow.address
        assert event.action == SOLD
        assert event.occurredAt == tx.timestamp
        assert event.locationHash == _buyer_tag(buyer)
        assert event.contextHash == order.id
    assert tx.events.filter(escrow.SaleRecorded) == [
        escrow.SaleRecorded(orderId=order.id, firstEventId=0, itemCount=2)
    ]
    assert all(registry.itemOf(item).lastAction == SOLD for item in items)
    assert escrow.saleEventCount() == 2


def test_item_by_item_release_records_only_released_items_with_sequential_ids(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any, ship: Any
) -> None:
    items = tuple(register_item() for _ in range(3))
    order = open_order(item_ids=items)
    ship(order)

    first = escrow.releaseItems(order.abi, 0b100, sender=buyer)
    second = escrow.confirmReceipt(order.abi, sender=buyer)

    assert [(e.itemId, e.eventId) for e in first.events.filter(registry.CustodyRecorded)] == [
        (items[2], 0)
    ]
    assert [(e.itemId, e.eventId) for e in second.events.filter(registry.CustodyRecorded)] == [
        (items[0], 1),
        (items[1], 2),
    ]
    assert registry.isEventRecorded(escrow, 2)


def test_release_before_any_carrier_records_no_sale(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any
) -> None:
    """The buyer's instant confirm of goods never handed to a carrier is a payment, not a sale."""
    items = (register_item(), register_item())
    order = open_order(item_ids=items)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    assert tx.events.filter(registry.CustodyRecorded) == []
    assert tx.events.filter(escrow.SaleRecorded) == []
    assert [registry.itemOf(item).lastAction for item in items] == [NO_ACTION, NO_ACTION]
    assert escrow.saleEventCount() == 0


def test_carrier_named_after_a_partial_release_makes_the_rest_a_sale(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    register_item: Any,
    ship: Any,
) -> None:
    items = (register_item(), register_item())
    order = open_order(item_ids=items)
    escrow.releaseItems(order.abi, 0b01, sender=buyer)
    ship(order)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    assert [e.itemId for e in tx.events.filter(registry.CustodyRecorded)] == [items[1]]
    assert [registry.itemOf(item).lastAction for item in items] == [NO_ACTION, SOLD]


def test_sku_order_makes_no_registry_record(
    escrow: Any, registry: Any, open_order: Any, buyer: Any
) -> None:
    order = open_order()

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    assert tx.events.filter(registry.CustodyRecorded) == []
    assert tx.events.filter(escrow.SaleRecorded) == []
    assert escrow.saleEventCount() == 0


def test_refunded_items_are_not_recorded_sold(
    escrow: Any, registry: Any, open_order: Any, buyer: Any, register_item: Any
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))

    escrow.cancel(order.abi, sender=buyer)

    assert registry.itemOf(item).lastAction == NO_ACTION


UNAUTHORIZED = "AccessControlUnauthorizedAccount(address,bytes32)"


def test_payout_stands_when_the_registry_refuses_the_sale_record(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    admin: Any,
    register_item: Any,
    ship: Any,
    asset: Any,
) -> None:
    order = open_order(item_ids=(register_item(),))
    ship(order)
    registry.revokeRole(registry.ESCROW_ROLE(), escrow, sender=admin)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    reason = encode_error(UNAUTHORIZED, escrow.address, registry.ESCROW_ROLE())
    assert tx.events.filter(escrow.SaleNotRecorded) == [
        escrow.SaleNotRecorded(orderId=order.id, reason=reason)
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED
    assert escrow.creditOf(merchant, asset.token) > 0
    assert escrow.saleEventCount() == 0


def test_refund_stands_when_the_registry_refuses_to_free_the_items(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    admin: Any,
    register_item: Any,
    asset: Any,
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    registry.revokeRole(registry.ESCROW_ROLE(), escrow, sender=admin)

    tx = escrow.cancel(order.abi, sender=buyer)

    reason = encode_error(UNAUTHORIZED, escrow.address, registry.ESCROW_ROLE())
    assert tx.events.filter(escrow.ItemsNotFreed) == [
        escrow.ItemsNotFreed(orderId=order.id, items=1, reason=reason)
    ]
    assert escrow.orderOf(order.id).status == OrderStatus.REFUNDED
    assert escrow.creditOf(buyer, asset.token) == order.terms.amount
    assert registry.itemOf(item).held


def test_item_reassigned_to_another_merchant_is_paid_but_not_recorded_sold(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    merchant: Any,
    other_merchant: Any,
    verifier: Any,
    register_item: Any,
    ship: Any,
) -> None:
    """Sold is recorded only for the order merchant's own items."""
    item = register_item()
    order = open_order(item_ids=(item,))
    ship(order)
    registry.reassignItem(item, other_merchant, h("finding"), sender=verifier)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    reason = encode_error("RegistryNotItemCustodian(address,bytes32)", merchant.address, item)
    assert tx.events.filter(escrow.SaleNotRecorded)[0].reason == reason
    assert registry.itemOf(item).lastAction == NO_ACTION
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_revoked_item_does_not_lock_the_order(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    verifier: Any,
    register_item: Any,
    ship: Any,
) -> None:
    item = register_item()
    order = open_order(item_ids=(item,))
    ship(order)
    registry.reassignItem(item, ZERO_ADDRESS, h("revoked"), sender=verifier)

    tx = escrow.confirmReceipt(order.abi, sender=buyer)

    reason = encode_error("RegistryItemNotRegistered(bytes32)", item)
    assert tx.events.filter(escrow.SaleNotRecorded)[0].reason == reason
    assert escrow.orderOf(order.id).status == OrderStatus.RELEASED


def test_caller_cannot_starve_the_sale_record_of_gas(
    escrow: Any,
    registry: Any,
    open_order: Any,
    buyer: Any,
    register_item: Any,
    ship: Any,
    chain: Any,
) -> None:
    """Whatever gas limit the buyer picks, a release either records the sale or does not happen.

    With 32 items the registry call is costly enough that the 1/64 of gas kept back by the caller
    would pay for the `catch` branch: without the escrow's gas check a buyer could skip the record.
    """
    order = open_order(item_ids=tuple(register_item() for _ in range(32)))
    ship(order)
    needed = int(escrow.confirmReceipt.estimate_gas_cost(order.abi, sender=buyer))
    outcomes = set()
    for limit in range(needed // 4, needed + 1, needed // 24):
        snapshot = chain.snapshot()
        try:
            tx = escrow.confirmReceipt(order.abi, sender=buyer, gas_limit=limit)
        except TransactionError:
            outcomes.add("reverted")
        else:
            assert tx.events.filter(escrow.SaleNotRecorded) == []
            assert len(tx.events.filter(escrow.SaleRecorded)) == 1
            outcomes.add("recorded")
        chain.restore(snapshot)
    assert outcomes == {"reverted", "recorded"}
