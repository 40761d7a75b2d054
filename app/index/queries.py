"""Reads of the index's own bookkeeping, shared by the shopper API, stats and readiness."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.vocab import MerchantStatus
from app.index.indexer import CURSOR
from app.index.models import IndexCursor, IndexedBlock, MerchantRow, MerchantStatusRow


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
