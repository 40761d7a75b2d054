"""Recall refunds that look due, from the index: open items of open orders that the index saw
recalled (``ItemRecalled``, or ``BatchRecalled`` of a batch the item was activated from) or
flagged (``ItemFlagged``).

A cheap filter only: an item registered again after its recall, or moved out of its batch before
the batch's recall, may read Authentic again. The keeper simulates ``refundRecalled`` with the
items found and, while the contract refuses one of them (``EscrowItemNotRecalled``, naming it),
asks again without it (``app.keeper.worker``): the registry's verdict, read by the escrow, alone
decides. One duty per (order, items bitmap): a later recall of another item of the same order
makes a new bitmap, so a new duty."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from app.index.models import BatchRecallRow, ItemFlagRow, ItemRecallRow, ItemRow, OrderItemRow
from app.keeper.due import DueDuty
from app.settings import KeeperDuty


def recall_duties(session: Session, open_items: Mapping[str, int]) -> list[DueDuty]:
    """One candidate per open order (``open_items``: order id -> its open items' bitmap)
    holding open items the index saw recalled or flagged: their bitmap, due since the latest of
    those recalls."""
    marked = union_all(
        select(ItemRecallRow.item_id, ItemRecallRow.block_time),
        select(ItemFlagRow.item_id, ItemFlagRow.block_time),
        select(ItemRow.item_id, BatchRecallRow.block_time).join(
            BatchRecallRow, BatchRecallRow.root == ItemRow.batch_root
        ),
    ).subquery()
    first_marked = (
        select(marked.c.item_id, func.min(marked.c.block_time).label("at"))
        .group_by(marked.c.item_id)
        .subquery()
    )
    rows = session.execute(
        select(OrderItemRow.order_id, OrderItemRow.position, first_marked.c.at).join(
            first_marked, first_marked.c.item_id == OrderItemRow.item_id
        )
    ).all()
    found: dict[str, tuple[int, int]] = {}
    for order_id, position, at in rows:
        open_now = open_items.get(order_id, 0)
        bit = 1 << int(position)
        if not open_now & bit:
            continue
        items, due_at = found.get(order_id, (0, 0))
        found[order_id] = (items | bit, max(due_at, int(at)))
    return [
        DueDuty(order_id, KeeperDuty.REFUND_RECALLED, due_at, str(items))
        for order_id, (items, due_at) in found.items()
    ]
