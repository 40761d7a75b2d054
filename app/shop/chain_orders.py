"""A merchant's seller record and an item's orders from the escrow's views and logs at the
snapshot's block (``?fresh=true``), counted by the index's own rule
(``app.index.seller_records.order_counts``)."""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.vocab import OrderStatus
from app.index.handlers import hex32
from app.index.seller_records import ZERO, Counts, OrderOutcome, seller_records
from app.shop.chain_snapshot import ChainSnapshot, Event, field_of
from app.shop.facts import Sale

TOPIC_CHUNK = 100
# IOrderEscrow.Order: status, itemCount, merchantAnswered, buyerBps, carrier, shipBy,
# deliveredAt, disputeDeadline, deliveredItems, releasedItems, refundedItems.
ORDER_BUYER_BPS = 3
ORDER_RELEASED_ITEMS = 9


def chain_sales(chain: ChainSnapshot, item_id: str, order_ids: Sequence[str]) -> list[Sale]:
    """The escrow orders of the item (each held it: its ``ItemHeld`` events name them)."""
    escrow = chain.escrow
    if escrow is None or not order_ids:
        return []
    unique = [bytes.fromhex(o[2:]) for o in dict.fromkeys(order_ids)]
    opened = _in_chunks(chain, ["OrderOpened"], unique)
    chain.load_times(opened)
    sales = []
    for event in opened:
        order_id = hex32(event.args["orderId"])
        terms = event.args["terms"]
        state = chain.call(escrow.functions.orderOf(bytes.fromhex(order_id[2:])))
        item_ids = [hex32(i) for i in terms["itemIds"]]
        position = item_ids.index(item_id) if item_id in item_ids else None
        released_items = int(field_of(state, ORDER_RELEASED_ITEMS, "releasedItems"))
        sales.append(
            Sale(
                order_id=order_id,
                status=OrderStatus(field_of(state, 0, "status")),
                buyer=str(terms["buyer"]),
                token=str(terms["token"]),
                amount=int(terms["amount"]),
                released=bool(position is not None and released_items >> position & 1),
                opened=chain.ref(event),
            )
        )
    return sales


def chain_seller_counts(chain: ChainSnapshot, merchant: str) -> Counts:
    """The merchant's record: its orders' terms from their ``OrderOpened`` logs, their status and
    settlement share from ``orderOf``, their disputes from ``DisputeOpened`` logs, the floors from
    ``sellerRecordFloor``."""
    escrow = chain.escrow
    if escrow is None:
        return ZERO
    merchant_topic = bytes(12) + bytes.fromhex(merchant[2:])
    opened = chain.logs(escrow, ["OrderOpened"], None, None, merchant_topic)
    ids = [bytes(event.args["orderId"]) for event in opened]
    disputed = {hex32(e.args["orderId"]) for e in _in_chunks(chain, ["DisputeOpened"], ids)}
    floors: dict[str, int] = {}
    outcomes = []
    for event in opened:
        order_id = hex32(event.args["orderId"])
        terms = event.args["terms"]
        token = str(terms["token"])
        if token not in floors:
            floors[token] = int(chain.call(escrow.functions.sellerRecordFloor(token)))
        state = chain.call(escrow.functions.orderOf(bytes.fromhex(order_id[2:])))
        outcomes.append(
            OrderOutcome(
                merchant=merchant,
                token=token,
                amount=int(terms["amount"]),
                status=OrderStatus(field_of(state, 0, "status")),
                disputed=order_id in disputed,
                buyer_bps=int(field_of(state, ORDER_BUYER_BPS, "buyerBps")),
            )
        )
    return seller_records(outcomes, floors).get(merchant, ZERO)


def _in_chunks(chain: ChainSnapshot, events: list[str], order_ids: list[bytes]) -> list[Event]:
    """The escrow's ``events`` of ``order_ids`` (first indexed topic), oldest first."""
    assert chain.escrow is not None
    found: list[Event] = []
    for start in range(0, len(order_ids), TOPIC_CHUNK):
        found += chain.logs(chain.escrow, events, order_ids[start : start + TOPIC_CHUNK])
    return sorted(found, key=lambda e: (e.block_number, e.log_index))
