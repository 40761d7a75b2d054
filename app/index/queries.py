"""Reads of the index's own bookkeeping, shared by the shopper API, stats and readiness."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

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
Value = TypeVar("Value")


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
    rows: list[tuple[str, int, int, str]] = []
    for chunk in _chunks(item_ids):
        for table, merchant in (
            (ItemRow, ItemRow.merchant),
            (ItemReassignRow, ItemReassignRow.to_merchant),
        ):
            rows += session.execute(
                select(table.item_id, table.block_number, table.log_index, merchant).where(
                    table.item_id.in_(chunk)
                )
            ).all()
    return _latest_per_item(rows)


class ItemOrder(NamedTuple):
    """The order that most recently held an item, and whose it is."""

    order_id: str
    merchant: str


def latest_orders(session: Session, item_ids: Collection[str]) -> dict[str, ItemOrder]:
    """The order that most recently held each item, as the index saw the orders opened."""
    rows: list[tuple[str, int, int, ItemOrder]] = []
    for chunk in _chunks(item_ids):
        found = session.execute(
            select(
                OrderItemRow.item_id,
                OrderItemRow.block_number,
                OrderItemRow.log_index,
                OrderItemRow.order_id,
                OrderRow.merchant,
            )
            .join(OrderRow, OrderRow.order_id == OrderItemRow.order_id)
            .where(OrderItemRow.item_id.in_(chunk))
        ).all()
        rows += [
            (item, block, index, ItemOrder(order, owner))
            for item, block, index, order, owner in found
        ]
    return _latest_per_item(rows)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _latest_per_item(rows: Iterable[tuple[str, int, int, Value]]) -> dict[str, Value]:
    """Of rows (item id, block, log index, value), each item's value in its latest row."""
    latest: dict[str, tuple[int, int, Value]] = {}
    for item_id, block, log_index, value in rows:
        if item_id not in latest or (block, log_index) > latest[item_id][:2]:
            latest[item_id] = (block, log_index, value)
    return {item_id: value for item_id, (_, _, value) in latest.items()}
