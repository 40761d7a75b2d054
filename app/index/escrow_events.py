"""OrderEscrow's events into the index; each later event carries the order's state after it,
following the contract's own transitions (``contracts/escrow/OrderEscrow.sol``).

Items end one by one: a release or a refund names its items (a recall refunds only the recalled
items' shares and the rest of the order goes on), and the order is final once every item was
released or refunded; it then reads Released or Refunded after the event that closed it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.vocab import OrderStatus
from app.index.handlers import ChainLog, HandlerTable, address, hex32
from app.index.models import (
    DisputeRow,
    OrderEventRow,
    OrderItemRow,
    OrderRow,
    SellerRecordFloorRow,
    amount_key,
)

ESCROW = "OrderEscrow"
HALF_BPS = 5_000

MERCHANT_LOST = "merchant_lost"
MERCHANT_WON = "merchant_won"
SPLIT = "split"


class OrderState:
    """An order's mutable state, as its latest index row has it."""

    def __init__(
        self,
        order: OrderRow,
        status: int,
        delivered: int = 0,
        released: int = 0,
        refunded: int = 0,
        carrier: int = 0,
    ) -> None:
        self.order = order
        self.status = status
        self.delivered = delivered
        self.released = released
        self.refunded = refunded
        self.carrier = carrier

    @property
    def all_items(self) -> int:
        return (1 << self.order.item_count) - 1


def order_state(session: Session, order_id: str) -> OrderState:
    state = find_order_state(session, order_id)
    if state is None:
        raise LookupError(f"order {order_id} has an event before the index saw it opened")
    return state


def find_order_state(session: Session, order_id: str) -> OrderState | None:
    """The order's state, or None when the index never saw it opened."""
    order = session.get(OrderRow, order_id)
    if order is None:
        return None
    last = session.scalars(
        select(OrderEventRow)
        .where(OrderEventRow.order_id == order_id)
        .order_by(OrderEventRow.block_number.desc(), OrderEventRow.log_index.desc())
        .limit(1)
    ).first()
    if last is None:
        return OrderState(order, OrderStatus.FUNDED)
    return OrderState(
        order,
        last.status,
        last.delivered_items,
        last.released_items,
        last.refunded_items or 0,
        last.carrier or 0,
    )


def order_opened(session: Session, log: ChainLog) -> None:
    terms = log.args["terms"]
    order_id = hex32(log.args["orderId"])
    item_ids = [hex32(item) for item in terms["itemIds"]]
    session.add(
        OrderRow(
            order_id=order_id,
            buyer=address(terms["buyer"]),
            merchant=address(terms["merchant"]),
            payer=address(terms["payer"]),
            token=address(terms["token"]),
            amount=str(int(terms["amount"])),
            amount_key=amount_key(int(terms["amount"])),
            ship_by=int(terms["shipBy"]),
            deliver_by=int(terms["deliverBy"]),
            dispute_window=int(terms["disputeWindow"]),
            fee_bps=int(terms["feeBps"]),
            order_ref=hex32(terms["orderRef"]),
            salt=str(int(terms["salt"])),
            item_count=len(item_ids) or 1,
            **log.where(),
        )
    )
    for position, item_id in enumerate(item_ids):
        session.add(
            OrderItemRow(order_id=order_id, item_id=item_id, position=position, **log.where())
        )


def _record(
    session: Session,
    log: ChainLog,
    kind: str,
    state: OrderState,
    details: dict[str, Any],
    dispute_outcome: str | None = None,
) -> None:
    session.add(
        OrderEventRow(
            order_id=state.order.order_id,
            merchant=state.order.merchant,
            kind=kind,
            actor=_actor(log),
            details=json.dumps(details, sort_keys=True),
            status=state.status,
            delivered_items=state.delivered,
            released_items=state.released,
            refunded_items=state.refunded,
            carrier=state.carrier,
            dispute_outcome=dispute_outcome,
            **log.where(),
        )
    )


def _actor(log: ChainLog) -> str:
    """Who acted: ``by`` (or the ruling ``arbiter``); the escrow itself for its sale records."""
    for name in ("by", "arbiter"):
        if name in log.args:
            return address(log.args[name])
    return address(log.address)


def _state_of(session: Session, log: ChainLog) -> OrderState:
    return order_state(session, hex32(log.args["orderId"]))


def carrier_assigned(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    state.carrier = int(log.args["carrier"])
    _record(session, log, "carrier_assigned", state, {"carrier": state.carrier})


def order_shipped(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    state.status = OrderStatus.SHIPPED
    state.carrier = int(log.args["carrier"])
    details = {"tracking_hash": hex32(log.args["trackingHash"]), "carrier": state.carrier}
    _record(session, log, "shipped", state, details)


def order_delivered(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    items = int(log.args["items"])
    state.delivered |= items
    if state.delivered | state.released | state.refunded == state.all_items:
        state.status = OrderStatus.DELIVERED
    details = {"items": items, "proof_hash": hex32(log.args["proofHash"])}
    _record(session, log, "delivered", state, details)


def order_released(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    items = int(log.args["items"])
    state.released |= items
    if state.released | state.refunded == state.all_items:
        state.status = OrderStatus.RELEASED
    details = {
        "items": items,
        "merchant_amount": str(int(log.args["merchantAmount"])),
        "fee_amount": str(int(log.args["feeAmount"])),
    }
    _record(session, log, "released", state, details)


def order_refunded(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    items = int(log.args["items"])
    state.refunded |= items
    outcome = None
    if state.released | state.refunded == state.all_items:
        # Only a refund that ends a dispute decides it (against the merchant).
        outcome = MERCHANT_LOST if state.status == OrderStatus.DISPUTED else None
        state.status = OrderStatus.REFUNDED
    elif (
        state.status == OrderStatus.SHIPPED
        and state.delivered | state.released | state.refunded == state.all_items
    ):
        state.status = OrderStatus.DELIVERED
    details = {
        "reason": int(log.args["reason"]),
        "items": items,
        "payer_amount": str(int(log.args["payerAmount"])),
    }
    _record(session, log, "refunded", state, details, outcome)


def order_settled(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    buyer_bps = int(log.args["buyerBps"])
    outcome = None
    if state.status == OrderStatus.DISPUTED:
        outcome = (
            MERCHANT_LOST
            if buyer_bps > HALF_BPS
            else MERCHANT_WON
            if buyer_bps < HALF_BPS
            else SPLIT
        )
    state.status = OrderStatus.SETTLED
    details = {
        "kind": int(log.args["kind"]),
        "buyer_bps": buyer_bps,
        "payer_amount": str(int(log.args["payerAmount"])),
        "merchant_amount": str(int(log.args["merchantAmount"])),
        "fee_amount": str(int(log.args["feeAmount"])),
    }
    _record(session, log, "settled", state, details, outcome)


def settlement_offered(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    details = {"buyer_bps": int(log.args["buyerBps"]), "expires_at": int(log.args["expiresAt"])}
    _record(session, log, "settlement_offered", state, details)


def settlement_offer_withdrawn(session: Session, log: ChainLog) -> None:
    _record(session, log, "settlement_offer_withdrawn", _state_of(session, log), {})


def dispute_opened(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    state.status = OrderStatus.DISPUTED
    evidence = hex32(log.args["evidenceHash"])
    deadline = int(log.args["deadline"])
    _record(
        session, log, "dispute_opened", state, {"evidence_hash": evidence, "deadline": deadline}
    )
    session.add(
        DisputeRow(
            order_id=state.order.order_id,
            merchant=state.order.merchant,
            buyer=state.order.buyer,
            opened_by=address(log.args["by"]),
            evidence_hash=evidence,
            deadline=deadline,
            **log.where(),
        )
    )


def evidence_submitted(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    evidence = {"evidence_hash": hex32(log.args["evidenceHash"])}
    _record(session, log, "evidence_submitted", state, evidence)


def dispute_ruled(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    _record(session, log, "dispute_ruled", state, {"ruling_hash": hex32(log.args["rulingHash"])})


def sale_recorded(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    details = {
        "first_event_id": str(int(log.args["firstEventId"])),
        "item_count": int(log.args["itemCount"]),
    }
    _record(session, log, "sale_recorded", state, details)


def sale_not_recorded(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    reason = "0x" + bytes(log.args["reason"]).hex()
    _record(session, log, "sale_not_recorded", state, {"reason": reason})


def items_not_freed(session: Session, log: ChainLog) -> None:
    state = _state_of(session, log)
    details = {"items": int(log.args["items"]), "reason": "0x" + bytes(log.args["reason"]).hex()}
    _record(session, log, "items_not_freed", state, details)


def logistics_update_rejected(session: Session, log: ChainLog) -> None:
    """A carrier report the escrow refused (its reason an ABI-encoded custom error). The order id
    is the oracle's word: a report on an order the index never saw is not the index's business."""
    state = find_order_state(session, hex32(log.args["orderId"]))
    if state is None:
        return
    details = {
        "kind": int(log.args["kind"]),
        "carrier": int(log.args["carrier"]),
        "reason": "0x" + bytes(log.args["reason"]).hex(),
    }
    _record(session, log, "logistics_rejected", state, details)


def seller_record_floor_changed(session: Session, log: ChainLog) -> None:
    session.add(
        SellerRecordFloorRow(
            token=address(log.args["token"]),
            amount=str(int(log.args["amount"])),
            amount_key=amount_key(int(log.args["amount"])),
            **log.where(),
        )
    )


def register_escrow(table: HandlerTable) -> None:
    table.add(ESCROW, "OrderOpened", order_opened)
    table.add(ESCROW, "CarrierAssigned", carrier_assigned)
    table.add(ESCROW, "SettlementOfferWithdrawn", settlement_offer_withdrawn)
    table.add(ESCROW, "ItemsNotFreed", items_not_freed)
    table.add(ESCROW, "LogisticsUpdateRejected", logistics_update_rejected)
    table.add(ESCROW, "SellerRecordFloorChanged", seller_record_floor_changed)
    table.add(ESCROW, "OrderShipped", order_shipped)
    table.add(ESCROW, "OrderDelivered", order_delivered)
    table.add(ESCROW, "OrderReleased", order_released)
    table.add(ESCROW, "OrderRefunded", order_refunded)
    table.add(ESCROW, "OrderSettled", order_settled)
    table.add(ESCROW, "SettlementOffered", settlement_offered)
    table.add(ESCROW, "DisputeOpened", dispute_opened)
    table.add(ESCROW, "EvidenceSubmitted", evidence_submitted)
    table.add(ESCROW, "DisputeRuled", dispute_ruled)
    table.add(ESCROW, "SaleRecorded", sale_recorded)
    table.add(ESCROW, "SaleNotRecorded", sale_not_recorded)
