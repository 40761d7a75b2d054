"""Batches with a bad record.

ProductRegistry.registerItems and recordCustody are "all or none", as their interfaces document:
the call reverts with the bad record's own error, none of the good records around it takes
effect, and the same batch without the bad record goes through. OrderEscrow.reportLogistics is
the other way round (a finding of SECURITY.md: one stale report voided up to 500): each refused
report is skipped with LogisticsUpdateRejected carrying its custom error, and every good one is
applied; only an empty batch or a paused escrow refuses the whole call.
"""

from __future__ import annotations

import itertools
from typing import Any

import ape

from app.domain.vocab import LogisticsKind
from tests.attacks.conftest import (
    AMOUNT,
    CARRIER,
    Actors,
    Suite,
    error_data,
    logistics,
    now_of,
    register,
    sku_key,
)
from tests.contracts.escrow.helpers import OrderStatus, h

SHIPPED, DELIVERED = LogisticsKind.SHIPPED, LogisticsKind.DELIVERED
RECEIVED = 1  # IProductRegistry.CustodyAction: the first action after None
ZERO = "0x0000000000000000000000000000000000000000"
_ids = itertools.count(10_000)


def _key(label: str) -> tuple[int, str, str]:
    return sku_key(f"batches {label} {next(_ids)}")


def test_register_items_with_one_taken_id_registers_none(suite: Suite, actors: Actors) -> None:
    registry, merchant = suite.registry, actors.merchant
    taken_key = _key("taken")
    taken = register(registry, merchant, taken_key)
    fresh_keys = [_key("fresh") for _ in range(3)]
    fresh = [bytes(registry.itemIdOfKey(merchant.address, key)) for key in fresh_keys]
    batch = [(key, h("meta"), "ipfs://x") for key in fresh_keys[:2]]
    batch += [(taken_key, h("meta"), "ipfs://x"), (fresh_keys[2], h("meta"), "ipfs://x")]

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=taken):
        registry.registerItems(batch, sender=merchant)

    assert [registry.itemOf(item).merchant for item in fresh] == [ZERO] * 3
    registry.registerItems([row for row in batch if row[0] != taken_key], sender=merchant)
    assert [registry.itemOf(item).merchant for item in fresh] == [merchant.address] * 3


def test_custody_batch_with_one_bad_event_records_none(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    registry = suite.registry
    items = [register(registry, actors.merchant, _key("custody")) for _ in range(3)]
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


def test_logistics_batch_skips_each_bad_update_with_its_reason_and_applies_the_rest(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    escrow = suite.escrow
    orders = [terms_for() for _ in range(4)]
    for terms in orders:
        escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    for terms in orders[:3]:
        escrow.assignCarrier(terms.as_abi(), CARRIER, sender=actors.merchant)
    escrow.ship(orders[2].as_abi(), CARRIER, h("tracking"), sender=actors.merchant)
    first, second, third, no_carrier = (terms.order_id for terms in orders)
    unknown = h(f"no such order {next(_ids)}")
    bad = [
        (logistics(unknown, SHIPPED), error_data(escrow, "EscrowOrderNotFound", unknown)),
        (
            logistics(no_carrier, SHIPPED),
            error_data(escrow, "EscrowWrongCarrier", no_carrier, CARRIER, 0),
        ),
        (
            logistics(third, DELIVERED, items=0b10),  # an item the one-item order does not have
            error_data(escrow, "EscrowInvalidItems", third, 0b10),
        ),
        (
            logistics(third, DELIVERED),  # the same delivery reported twice
            error_data(escrow, "EscrowInvalidStatus", third, OrderStatus.DELIVERED),
        ),
    ]
    good = [logistics(first, SHIPPED), logistics(second, SHIPPED), logistics(third, DELIVERED)]

    receipt = escrow.reportLogistics(
        [bad[0][0], good[0], bad[1][0], bad[2][0], good[1], good[2], bad[3][0]],
        sender=actors.logistics,
    )

    rejected = receipt.events.filter(escrow.LogisticsUpdateRejected)
    assert [(bytes(e.orderId), bytes(e.reason)) for e in rejected] == [
        (update[0], reason) for update, reason in bad
    ]
    statuses = [escrow.orderOf(terms.order_id).status for terms in orders]
    assert statuses == [
        OrderStatus.SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.FUNDED,
    ]


def test_a_logistics_batch_is_refused_whole_only_when_empty_or_paused(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    escrow = suite.escrow
    terms = terms_for()
    escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=actors.merchant)

    with ape.reverts(escrow.EscrowEmptyBatch):
        escrow.reportLogistics([], sender=actors.logistics)
    escrow.pause(sender=actors.admin)
    try:
        with ape.reverts(escrow.EnforcedPause):
            escrow.reportLogistics([logistics(terms.order_id, DELIVERED)], sender=actors.logistics)
    finally:
        escrow.unpause(sender=actors.admin)

    assert escrow.orderOf(terms.order_id).status == OrderStatus.SHIPPED
