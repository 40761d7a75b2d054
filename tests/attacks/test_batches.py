"""A batch with one bad record is refused whole, as the interfaces document ("all or none"):
ProductRegistry.registerItems and recordCustody, OrderEscrow.reportLogistics. The call reverts
with the bad record's own error, and none of the good records around it takes effect; the same
batch without the bad record goes through."""

from __future__ import annotations

import itertools
from typing import Any

import ape

from tests.attacks.conftest import AMOUNT, Actors, Suite, now_of
from tests.contracts.escrow.helpers import OrderStatus, h

SHIPPED, DELIVERED = 0, 1
RECEIVED = 1  # IProductRegistry.CustodyAction: the first action after None
_ids = itertools.count(10_000)


def test_register_items_with_one_taken_id_registers_none(suite: Suite, actors: Actors) -> None:
    registry = suite.registry
    taken = h(f"taken {next(_ids)}")
    registry.registerItem(taken, h("meta"), "ipfs://taken", sender=actors.merchant)
    fresh = [h(f"fresh {next(_ids)}") for _ in range(3)]
    batch = [(item, h("meta"), "ipfs://x") for item in fresh[:2]]
    batch += [(taken, h("meta"), "ipfs://x"), (fresh[2], h("meta"), "ipfs://x")]

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=taken):
        registry.registerItems(batch, sender=actors.merchant)

    assert [registry.itemOf(item).merchant for item in fresh] == [ape.utils.ZERO_ADDRESS] * 3
    registry.registerItems([row for row in batch if row[0] != taken], sender=actors.merchant)
    assert [registry.itemOf(item).merchant for item in fresh] == [actors.merchant.address] * 3


def test_custody_batch_with_one_bad_event_records_none(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    registry = suite.registry
    items = [h(f"custody {next(_ids)}") for _ in range(3)]
    for item in items:
        registry.registerItem(item, h("meta"), "ipfs://item", sender=actors.merchant)
    now = now_of(provider)
    first = next(_ids)
    good = [
        (item, first + i, RECEIVED, now, h("dock"), h("shipment")) for i, item in enumerate(items)
    ]
    unknown = h(f"never registered {next(_ids)}")
    bad_records: list[tuple[tuple[Any, ...], Any, dict[str, Any]]] = [
        (
            (unknown, first + 10, RECEIVED, now, h("dock"), h("shipment")),
            registry.RegistryItemNotRegistered,
            {"itemId": unknown},
        ),
        (
            (items[0], first + 11, RECEIVED, now + 3_600, h("dock"), h("shipment")),
            registry.RegistryEventInFuture,
            {"eventId": first + 11},
        ),
        (
            (items[1], first + 1, RECEIVED, now, h("dock"), h("shipment")),  # same id twice
            registry.RegistryEventAlreadyRecorded,
            {"eventId": first + 1},
        ),
    ]
    for bad, error, fields in bad_records:
        with ape.reverts(error, **fields):
            registry.recordCustody([good[0], good[1], bad, good[2]], sender=actors.oracle)
        assert not any(registry.isEventRecorded(actors.oracle.address, first + i) for i in range(3))
        assert [registry.itemOf(item).lastAction for item in items] == [0, 0, 0]

    registry.recordCustody(good, sender=actors.oracle)
    assert all(registry.isEventRecorded(actors.oracle.address, first + i) for i in range(3))


def test_logistics_batch_with_one_bad_update_applies_none(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    escrow = suite.escrow
    orders = [terms_for() for _ in range(3)]
    for terms in orders:
        escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.ship(orders[2].as_abi(), h("tracking"), sender=actors.merchant)
    unknown = h(f"no such order {next(_ids)}")
    shipped = [(terms.order_id, SHIPPED, 0, h("tracking")) for terms in orders[:2]]
    delivered = (orders[2].order_id, DELIVERED, 0, h("pod"))
    bad_updates: list[tuple[tuple[Any, ...], Any, dict[str, Any]]] = [
        ((unknown, SHIPPED, 0, h("tracking")), escrow.EscrowOrderNotFound, {"orderId": unknown}),
        (
            (orders[2].order_id, DELIVERED, 0, h("pod")),  # the same delivery reported twice
            escrow.EscrowInvalidStatus,
            {"orderId": orders[2].order_id},
        ),
    ]
    for bad, error, fields in bad_updates:
        with ape.reverts(error, **fields):
            escrow.reportLogistics([*shipped, delivered, bad], sender=actors.oracle)
        statuses = [escrow.orderOf(terms.order_id).status for terms in orders]
        assert statuses == [OrderStatus.FUNDED, OrderStatus.FUNDED, OrderStatus.SHIPPED]

    escrow.reportLogistics([*shipped, delivered], sender=actors.oracle)
    statuses = [escrow.orderOf(terms.order_id).status for terms in orders]
    assert statuses == [OrderStatus.SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
