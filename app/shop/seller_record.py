"""A merchant's seller record from the index: the row the indexer keeps by the rule of
``app.index.seller_records``, read the same way by the item verdict (hot path, DB-API, joined to
its first query) and the merchant reads (SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.index.seller_records import ZERO, Counts, SellerRecordRow
from app.shop.assemble import seller_record_public
from app.shop.schemas import SellerRecordPublic

# Orders total, completed (released in full), refunded in full, disputes, disputes lost, from
# ``index_seller_records`` joined as ``{r}`` (LEFT JOIN: a merchant without orders has no row).
SELLER_RECORD_COLUMNS = (
    "{r}.orders_total, {r}.orders_completed, {r}.orders_refunded, {r}.disputes_total, "
    "{r}.disputes_lost"
)


def seller_counts(columns: Sequence[Any]) -> Counts:
    """The counts from the five columns of :data:`SELLER_RECORD_COLUMNS` (NULL: no orders)."""
    return cast(Counts, tuple(int(count or 0) for count in columns))


def seller_record(session: Session, merchant: str) -> SellerRecordPublic:
    """The merchant's record from the index."""
    found = session.execute(
        select(
            SellerRecordRow.orders_total,
            SellerRecordRow.orders_completed,
            SellerRecordRow.orders_refunded,
            SellerRecordRow.disputes_total,
            SellerRecordRow.disputes_lost,
        ).where(SellerRecordRow.merchant == merchant)
    ).first()
    return seller_record_public(seller_counts(found) if found is not None else ZERO)
