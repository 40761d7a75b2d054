"""Reads of the index's own bookkeeping, shared by the shopper API, stats and readiness."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.vocab import MerchantStatus
from app.index.indexer import CURSOR
from app.index.models import (
    IndexCursor,
    IndexedBlock,
    ItemReassignRow,
    ItemRow,
    MerchantRow,
    MerchantStatusRow,
    OrderItemRow,
    OrderRow,
)

# Ids named in one query's IN list.
CHUNK = 500


@dataclass(frozen=True)
class IndexPosition:
    start_block: int
    last_block: int


def index_position(session: Session) -> IndexPosition | None:
    """How far the index got; None before its first cycle."""
    cursor = session.get(IndexCursor, CURSOR)
    if cursor is None:
        return None
    return IndexPosition(cursor.start_block, cursor.last_block)


def index_time(session: Session) -> tuple[int, int] | None:
    """The latest block the index read, and its time; None before its first cycle."""
    found = session.execute(
        select(IndexedBlock.number, IndexedBlock.time).order_by(IndexedBlock.number.desc()).limit(1)
    ).first()
    return None if found is None else (int(found[0]), int(found[1]))


def merchant_status(session: Session, merchant: MerchantRow | None) -> MerchantStatus:
    """A merchant's current status: its latest suspension or reinstatement, else active."""
    if merchant is None:
        return MerchantStatus.NONE
    latest = session.scalars(
        select(MerchantStatusRow.status)
        .where(MerchantStatusRow.merchant == merchant.address)
        .order_by(MerchantStatusRow.block_number.desc(), MerchantStatusRow.log_index.desc())
        .limit(1)
    ).first()
    return MerchantStatus(latest) if latest is not None else MerchantStatus.ACTIVE


def item_merchants(session: Session, item_ids: Collection[str]) -> dict[str, str]:
    """Each indexed item's merchant now: its latest registration, or a later verifier's
    reassignment (the zero address: revoked). Items the index never saw are left out."""
    latest: dict[str, tuple[int, int, str]] = {}
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for table, merchant in (
            (ItemRow, ItemRow.merchant),
            (ItemReassignRow, ItemReassignRow.to_merchant),
        ):
            rows = session.execute(
                select(table.item_id, table.block_number, table.log_index, merchant).where(
                    table.item_id.in_(chunk)
                )
            )
            for item_id, block, log_index, owner in rows:
                if (block, log_index) >= latest.get(item_id, (-1, -1, ""))[:2]:
                    latest[item_id] = (block, log_index, owner)
    return {item_id: owner for item_id, (_, _, owner) in latest.items()}


class ItemOrder(NamedTuple):
    """The order that most recently held an item, and whose it is."""

    order_id: str
    merchant: str


def latest_orders(session: Session, item_ids: Collection[str]) -> dict[str, ItemOrder]:
    """The order that most recently held each item, as the index saw the orders opened."""
    latest: dict[str, tuple[int, int, ItemOrder]] = {}
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                OrderItemRow.item_id,
                OrderItemRow.block_number,
                OrderItemRow.log_index,
                OrderItemRow.order_id,
                OrderRow.merchant,
            )
            .join(OrderRow, OrderRow.order_id == OrderItemRow.order_id)
            .where(OrderItemRow.item_id.in_(ids[start : start + CHUNK]))
        )
        for item_id, block, log_index, order_id, merchant in rows:
            if item_id not in latest or (block, log_index) > latest[item_id][:2]:
                latest[item_id] = (block, log_index, ItemOrder(order_id, merchant))
    return {item_id: order for item_id, (_, _, order) in latest.items()}
