"""Shipment by the merchant: it names the carrier (assignCarrier, or ship) no later than shipBy."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import CARRIER, DAY, OTHER_CARRIER, OrderStatus, h


def test_merchant_marks_order_shipped_with_its_carrier(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()

    tx = escrow.ship(order.abi, CARRIER, h("tracking 1Z999"), sender=merchant)

    assert tx.events == [
        escrow.CarrierAssigned(orderId=order.id, carrier=CARRIER),
        escrow.OrderShipped(
            orderId=order.id,
            by=merchant.address,
            carrier=CARRIER,
            trackingHash=h("tracking 1Z999"),
        ),
    ]
    state = escrow.orderOf(order.id)
    assert (state.status, state.carrier) == (OrderStatus.SHIPPED, CARRIER)


def test_merchant_names_the_carrier_before_the_pickup(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()

    tx = escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    assert tx.events == [escrow.CarrierAssigned(orderId=order.id, carrier=CARRIER)]
    state = escrow.orderOf(order.id)
    assert (state.status, state.carrier) == (OrderStatus.FUNDED, CARRIER)


def test_merchant_may_change_the_carrier_until_shipment(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    escrow.assignCarrier(order.abi, OTHER_CARRIER, sender=merchant)
    tx = escrow.ship(order.abi, OTHER_CARRIER, h("t"), sender=merchant)

    # Shipping with the carrier already named assigns nothing new.
    assert tx.events.filter(escrow.CarrierAssigned) == []
    assert escrow.orderOf(order.id).carrier == OTHER_CARRIER
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        escrow.assignCarrier(order.abi, CARRIER, sender=merchant)


def test_ship_with_another_carrier_than_named_reassigns_it(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()
    escrow.assignCarrier(order.abi, CARRIER, sender=merchant)

    tx = escrow.ship(order.abi, OTHER_CARRIER, h("t"), sender=merchant)

    assert tx.events.filter(escrow.CarrierAssigned) == [
        escrow.CarrierAssigned(orderId=order.id, carrier=OTHER_CARRIER)
    ]
    assert escrow.orderOf(order.id).carrier == OTHER_CARRIER


def test_ship_and_assign_revert_without_a_carrier(
    escrow: Any, open_order: Any, merchant: Any
) -> None:
    order = open_order()

    with ape.reverts(escrow.EscrowNoCarrier, orderId=order.id):
        escrow.ship(order.abi, 0, h("t"), sender=merchant)
    with ape.reverts(escrow.EscrowNoCarrier, orderId=order.id):
        escrow.assignCarrier(order.abi, 0, sender=merchant)


def test_ship_and_assign_revert_for_anyone_but_the_merchant(
    escrow: Any, open_order: Any, buyer: Any, oracle: Any
) -> None:
    order = open_order()
    for caller in (buyer, oracle):
        with ape.reverts(escrow.EscrowNotMerchant, orderId=order.id, caller=caller.address):
            escrow.ship(order.abi, CARRIER, h("track"), sender=caller)
        with ape.reverts(escrow.EscrowNotMerchant, orderId=order.id, caller=caller.address):
            escrow.assignCarrier(order.abi, CARRIER, sender=caller)


def test_ship_and_assign_revert_after_ship_by(
    escrow: Any, open_order: Any, merchant: Any, chain: Any
) -> None:
    order = open_order()
    chain.pending_timestamp = order.terms.ship_by + 1

    with ape.reverts(escrow.EscrowShipByPassed, orderId=order.id, shipBy=order.terms.ship_by):
        escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    with ape.reverts(escrow.EscrowShipByPassed, orderId=order.id, shipBy=order.terms.ship_by):
        escrow.assignCarrier(order.abi, CARRIER, sender=merchant)


def test_ship_is_allowed_at_the_ship_by_second(
    escrow: Any, open_order: Any, merchant: Any, chain: Any
) -> None:
    order = open_order()
    chain.pending_timestamp = order.terms.ship_by

    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)

    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED


def test_ship_reverts_when_already_shipped(escrow: Any, open_order: Any, ship: Any) -> None:
    order = open_order()
    ship(order)
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.SHIPPED):
        ship(order)


def test_ship_reverts_for_unknown_terms(escrow: Any, make_terms: Any, merchant: Any) -> None:
    terms = make_terms()
    with ape.reverts(escrow.EscrowOrderNotFound, orderId=terms.order_id):
        escrow.ship(terms.as_abi(), CARRIER, h("track"), sender=merchant)
    with ape.reverts(escrow.EscrowOrderNotFound, orderId=terms.order_id):
        escrow.assignCarrier(terms.as_abi(), CARRIER, sender=merchant)


def test_merchant_ships_while_the_escrow_is_paused(
    escrow: Any, open_order: Any, admin: Any, ship: Any, travel: Any
) -> None:
    order = open_order()
    escrow.pause(sender=admin)
    travel(DAY)

    ship(order)

    assert escrow.orderOf(order.id).status == OrderStatus.SHIPPED
