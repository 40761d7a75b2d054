"""A merchant's seller record and an item's sales, read from the escrow's logs and views at the
snapshot's block (``?fresh=true``), by the rules the index follows (``app.shop.seller_record``,
``app.index.escrow_events``): orders below their token's seller-record floor are left out, and an
order ends when every item was released or refunded (a recall refunds only its items)."""

from __future__ import annotations

from app.domain.vocab import OrderStatus
from app.index.handlers import hex32
from app.shop.chain_snapshot import ChainSnapshot, Event, field_of
from app.shop.schemas import ChainRefPublic, SalePublic, SellerRecordPublic
from app.shop.seller_record import counts_in_record

TOPIC_CHUNK = 100
HALF_BPS = 5_000
# IOrderEscrow.Order: status, itemCount, merchantAnswered, buyerBps, carrier, shipBy,
# deliveredAt, disputeDeadline, deliveredItems, releasedItems, refundedItems.
ORDER_RELEASED_ITEMS = 9


def chain_sales(
    chain: ChainSnapshot, item_id: str, order_ids: list[str]
) -> tuple[list[SalePublic], list[Event]]:
    """The escrow orders that sold the item (its "sold" custody events name them)."""
    escrow = chain.escrow
    if escrow is None or not order_ids:
        return [], []
    unique = list(dict.fromkeys(order_ids))
    opened = chain.logs(escrow, ["OrderOpened"], [bytes.fromhex(o[2:]) for o in unique])
    sales = []
    for event in opened:
        order_id = hex32(event.args["orderId"])
        terms = event.args["terms"]
        state = chain.call(escrow.functions.orderOf(bytes.fromhex(order_id[2:])))
        item_ids = [hex32(i) for i in terms["itemIds"]]
        position = item_ids.index(item_id) if item_id in item_ids else None
        released_items = int(field_of(state, ORDER_RELEASED_ITEMS, "releasedItems"))
        sales.append(
            SalePublic(
                order_id=order_id,
                status=OrderStatus(field_of(state, 0, "status")).name.lower(),
                buyer=str(terms["buyer"]),
                token=str(terms["token"]),
                amount=str(int(terms["amount"])),
                released=bool(position is not None and released_items >> position & 1),
                opened=ChainRefPublic(
                    tx_hash=event.tx_hash,
                    block_number=event.block_number,
                    log_index=event.log_index,
                ),
            )
        )
    return sales, opened


def chain_seller_record(chain: ChainSnapshot, merchant: str) -> SellerRecordPublic:
    """The merchant's escrow record from the escrow's logs."""
    escrow = chain.escrow
    if escrow is None:
        return SellerRecordPublic(
            orders_total=0, orders_completed=0, orders_refunded=0, disputes_total=0, disputes_lost=0
        )
    merchant_topic = bytes(12) + bytes.fromhex(merchant[2:])
    opened = chain.logs(escrow, ["OrderOpened"], None, None, merchant_topic)
    floors: dict[str, int] = {}
    item_counts: dict[str, int] = {}
    for event in opened:
        terms = event.args["terms"]
        token = str(terms["token"])
        if token not in floors:
            floors[token] = int(chain.call(escrow.functions.sellerRecordFloor(token)))
        if counts_in_record(int(terms["amount"]), floors[token]):
            item_counts[hex32(event.args["orderId"])] = len(terms["itemIds"]) or 1
    ids = list(item_counts)
    outcomes: list[Event] = []
    for start in range(0, len(ids), TOPIC_CHUNK):
        chunk = [bytes.fromhex(o[2:]) for o in ids[start : start + TOPIC_CHUNK]]
        outcomes += chain.logs(
            escrow, ["OrderReleased", "OrderRefunded", "OrderSettled", "DisputeOpened"], chunk
        )
    outcomes.sort(key=lambda e: (e.block_number, e.log_index))
    released: dict[str, int] = {}
    refunded: dict[str, int] = {}
    disputed: set[str] = set()
    completed = refunds = lost = 0
    for event in outcomes:
        order_id = hex32(event.args["orderId"])
        every_item = (1 << item_counts[order_id]) - 1
        if event.name in {"OrderReleased", "OrderRefunded"}:
            ended = event.name == "OrderReleased"
            done = released if ended else refunded
            done[order_id] = done.get(order_id, 0) | int(event.args["items"])
            if released.get(order_id, 0) | refunded.get(order_id, 0) == every_item:
                completed += ended
                refunds += not ended
                lost += not ended and order_id in disputed
        elif event.name == "OrderSettled":
            lost += order_id in disputed and int(event.args["buyerBps"]) > HALF_BPS
        else:
            disputed.add(order_id)
    return SellerRecordPublic(
        orders_total=len(ids),
        orders_completed=completed,
        orders_refunded=refunds,
        disputes_total=len(disputed),
        disputes_lost=lost,
    )
